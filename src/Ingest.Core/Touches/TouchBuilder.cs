using System.Runtime.InteropServices;
using System.Text.Json;
using Ingest.Core.Governance;
using Ingest.Core.Identity;
using Ingest.Core.Time;

namespace Ingest.Core.Touches;

/// <summary>Limits a touch must respect.</summary>
public sealed class TouchLimits
{
    /// <summary>How far in the future <c>occurred_at</c> may be (client clock skew).</summary>
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Earliest accepted <c>occurred_at</c>.</summary>
    public DateTimeOffset MinOccurredAt { get; set; } = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Largest <c>properties</c> object, in bytes of its UTF-8 JSON text (as it travels and is stored).</summary>
    public int MaxPropertiesBytes { get; set; } = 16 * 1024;

    /// <summary>Longest event id; one constant shared with the worker, which dead-letters longer ones.</summary>
    public int MaxEventIdLength => TouchRecord.MaxEventIdLength;

    /// <summary>Longest identity value; one constant shared with the worker.</summary>
    public int MaxIdentityLength => TouchRecord.MaxIdentityLength;
}

/// <summary>The outcome of turning a payload into a record: either a record or the field errors.</summary>
public readonly record struct TouchBuildResult(TouchRecord? Record, IReadOnlyList<FieldError> Errors)
{
    public bool IsValid => Record is not null;
}

/// <summary>Validates a payload, normalizes its identities and runs governance: everything between parsing and Kafka.</summary>
public sealed class TouchBuilder(IGovernanceEvaluator governance, IdentityNormalizer identities, TouchLimits limits)
{
    public TouchBuildResult Build(TouchPayload payload, TouchContext context)
    {
        List<FieldError>? errors = null;
        void Fail(string field, string code, string message) => (errors ??= []).Add(new FieldError(field, code, message));

        var kind = context.DefaultKind;
        if (payload.Kind is { } kindText)
        {
            kind = kindText.Trim().ToLowerInvariant() switch
            {
                "form" => TouchKind.Form,
                "call" => TouchKind.Call,
                "ad" => TouchKind.Ad,
                "visit" => TouchKind.Visit,
                _ => null,
            };
            if (kind is null)
            {
                Fail("kind", "invalid_kind", "kind must be one of: form, call, ad, visit.");
            }
        }
        else if (kind is null)
        {
            Fail("kind", "missing_kind", "kind is required (form, call, ad or visit).");
        }

        var eventId = payload.EventId is null ? context.DerivedEventId ?? Uuid7.New().ToString() : payload.EventId.Trim();
        if (eventId.Length == 0 || eventId.Length > limits.MaxEventIdLength || eventId.AsSpan().ContainsAnyInRange('\0', ' '))
        {
            Fail("event_id", "invalid_event_id", $"event_id must be 1-{limits.MaxEventIdLength} printable characters without spaces.");
        }

        var occurredAt = context.ReceivedAt;
        if (payload.OccurredAt is { } occurredText)
        {
            if (!Rfc3339.TryParse(occurredText, out occurredAt))
            {
                Fail("occurred_at", "invalid_timestamp", "occurred_at must be an RFC 3339 timestamp with an offset, e.g. 2026-11-23T10:15:00Z.");
            }
            else if (occurredAt > context.ReceivedAt + limits.MaxFutureSkew)
            {
                Fail("occurred_at", "occurred_at_in_future", $"occurred_at is more than {limits.MaxFutureSkew.TotalMinutes:0} minutes in the future.");
            }
            else if (occurredAt < limits.MinOccurredAt)
            {
                Fail("occurred_at", "occurred_at_too_old", $"occurred_at is before {limits.MinOccurredAt:yyyy-MM-dd}.");
            }
        }

        var ids = new TouchIdentities
        {
            AnonymousId = Opaque(payload.AnonymousId, "anonymous_id"),
            ExternalId = Opaque(payload.ExternalId, "external_id"),
        };
        if (!string.IsNullOrWhiteSpace(payload.Email))
        {
            ids.Email = payload.Email.Length <= limits.MaxIdentityLength ? (context.IdentitiesNormalized ? payload.Email : IdentityNormalizer.NormalizeEmail(payload.Email)) : null;
            if (ids.Email is null)
            {
                Fail("email", "invalid_email", "email is not a valid address.");
            }
        }

        if (!string.IsNullOrWhiteSpace(payload.Phone))
        {
            ids.Phone = payload.Phone.Length <= limits.MaxIdentityLength ? (context.IdentitiesNormalized ? payload.Phone : identities.NormalizePhone(payload.Phone)) : null;
            if (ids.Phone is null)
            {
                Fail("phone", "invalid_phone", $"phone is not a possible phone number (numbers without a country code are read as {identities.DefaultRegion}).");
            }
        }

        var clickIds = CollectClickIds(payload);
        if (ids.StrongestKey() is null && clickIds is null && errors is null && !context.AwaitingEnrichment)
        {
            Fail("identities", "no_identity", "A touch needs at least one identity: anonymous_id, email, phone, external_id or a click id.");
        }

        if (payload.Properties is { } properties)
        {
            if (properties.ValueKind != JsonValueKind.Object)
            {
                Fail("properties", "invalid_properties", "properties must be a JSON object.");
            }
            else if (JsonMarshal.GetRawUtf8Value(properties).Length > limits.MaxPropertiesBytes)
            {
                Fail("properties", "properties_too_large", $"properties may hold at most {limits.MaxPropertiesBytes} bytes of JSON.");
            }
        }

        if (errors is not null)
        {
            return new TouchBuildResult(null, errors);
        }

        var attribution = governance.Evaluate(GovernanceInputOf(payload, ClassifiesOffline(kind!.Value), clickIds, context.Provider));

        var record = new TouchRecord
        {
            EventId = eventId,
            Kind = kind!.Value,
            Door = context.Door,
            Method = TouchMethods.Of(context.Door, KindName(kind.Value)),
            OccurredAt = occurredAt,
            ReceivedAt = context.ReceivedAt,
            Identities = ids,
            PageUrl = payload.PageUrl,
            Referrer = payload.Referrer,
            Attribution = attribution,
            ClickIds = clickIds,
            SelfReportedSource = payload.SelfReportedSource,
            Consent = payload.Consent,
            Properties = payload.Properties,
            Provider = context.Provider,
            IsTest = context.IsTest,
            AwaitingEnrichment = context.AwaitingEnrichment,
        };
        return new TouchBuildResult(record, []);

        string? Opaque(string? value, string field)
        {
            var normalized = IdentityNormalizer.NormalizeOpaqueId(value);
            if (normalized is not null && (normalized.Length > limits.MaxIdentityLength || normalized.AsSpan().ContainsAnyInRange('\0', '\u001f')))
            {
                Fail(field, "invalid_identity", $"{field} must be at most {limits.MaxIdentityLength} characters without control characters.");
                return null;
            }

            return normalized;
        }
    }

    /// <summary>The provider fact that names an offline touch's event (its rules-file <c>event_codes</c> entry).</summary>
    public const string EventCodeFact = "event_code";

    /// <summary>What governance reads from a payload (and from the provider facts its door found: a call's tracking number, an offline touch's event code).</summary>
    public static GovernanceInput GovernanceInputOf(TouchPayload payload, bool isOffline, Dictionary<string, string>? clickIds = null,
        IReadOnlyDictionary<string, string>? provider = null)
    {
        clickIds ??= CollectClickIds(payload);
        return new GovernanceInput
        {
            PageUrl = payload.PageUrl,
            Referrer = payload.Referrer,
            UtmSource = payload.UtmSource,
            UtmMedium = payload.UtmMedium,
            UtmCampaign = payload.UtmCampaign,
            UtmTerm = payload.UtmTerm,
            UtmContent = payload.UtmContent,
            UtmId = payload.UtmId,
            ClickIds = clickIds?.ToList(),
            SelfReportedSource = payload.SelfReportedSource,
            IsOffline = isOffline,
            // CallRail names it tracking_phone_number, Twilio's To becomes tracking_number.
            TrackingNumber = provider?.GetValueOrDefault("tracking_number") ?? provider?.GetValueOrDefault("tracking_phone_number"),
            EventCode = provider?.GetValueOrDefault(EventCodeFact) ?? EventCodeOf(payload.Properties),
        };
    }

    /// <summary>The wire name of a kind, as <see cref="TouchMethods.Of"/> reads it.</summary>
    private static string KindName(TouchKind kind) => kind switch
    {
        TouchKind.Form => "form",
        TouchKind.Call => "call",
        TouchKind.Ad => "ad",
        TouchKind.Visit => "visit",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private static string? EventCodeOf(JsonElement? properties) =>
        properties is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty("event_code", out var code) && code.ValueKind == JsonValueKind.String ? code.GetString() : null;

    /// <summary>
    /// What governance reads from a stored touch: the payload it was built from, as far as governance saw it (the raw UTM
    /// values, explicit or from the page URL, stand in for the explicit fields and give the same raw values). Evaluating
    /// it under other rules is reclassification; under the same rules it gives the stored result again.
    /// </summary>
    public static GovernanceInput GovernanceInputOf(TouchRecord record)
    {
        var raw = record.Attribution.Raw;
        var payload = new TouchPayload
        {
            PageUrl = record.PageUrl,
            Referrer = record.Referrer,
            UtmSource = raw.Source,
            UtmMedium = raw.Medium,
            UtmCampaign = raw.Campaign,
            UtmTerm = raw.Term,
            UtmContent = raw.Content,
            UtmId = raw.Id,
            SelfReportedSource = record.SelfReportedSource,
            Properties = record.Properties,
        };
        return GovernanceInputOf(payload, ClassifiesOffline(record.Kind), record.ClickIds, record.Provider);
    }

    /// <summary>Kinds governance classifies as offline when they carry no digital signal.</summary>
    private static bool ClassifiesOffline(TouchKind kind) => kind is TouchKind.Call or TouchKind.Offline;

    /// <summary>The Kafka message key: the strongest identity, else the click id, else the event id.</summary>
    public static string PartitionKey(TouchRecord record) =>
        record.Identities.StrongestKey() ?? (record.Attribution.ClickId is { } click ? "click:" + click : "event:" + record.EventId);

    private static Dictionary<string, string>? CollectClickIds(TouchPayload payload)
    {
        Dictionary<string, string>? found = null;
        if (payload.ClickIds is { } sent)
        {
            foreach (var (name, value) in sent)
            {
                // Click ids are case-sensitive: stored verbatim, only surrounding whitespace dropped.
                if (!string.IsNullOrWhiteSpace(value))
                {
                    (found ??= new Dictionary<string, string>(StringComparer.Ordinal))[name] = value.Trim();
                }
            }
        }

        return found;
    }
}
