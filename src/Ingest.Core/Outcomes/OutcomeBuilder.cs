using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Ingest.Core.Identity;
using Ingest.Core.Time;
using Ingest.Core.Touches;

namespace Ingest.Core.Outcomes;

/// <summary>What a door knows about an outcome beyond its payload.</summary>
public sealed class OutcomeContext
{
    public required string Door { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>The provider's own id of the event (HubSpot <c>eventId</c>), from which the event id is derived.</summary>
    public string? DerivedEventId { get; init; }
}

/// <summary>The outcome of turning a payload into a record: either a record or the field errors.</summary>
public readonly record struct OutcomeBuildResult(OutcomeRecord? Record, IReadOnlyList<FieldError> Errors);

/// <summary>Validates an outcome, normalizes its identities like a touch's and derives its event id when none was sent.</summary>
public sealed class OutcomeBuilder(IdentityNormalizer identities, TouchLimits limits)
{
    /// <summary>Most leads one deal may name.</summary>
    public const int MaxDealLeads = 50;

    private const int MaxTextLength = 200;

    public OutcomeBuildResult Build(OutcomePayload payload, OutcomeContext context)
    {
        List<FieldError>? errors = null;
        void Fail(string field, string code, string message) => (errors ??= []).Add(new FieldError(field, code, message));

        var type = payload.Type?.Trim().ToLowerInvariant();
        if (type is null)
        {
            Fail("type", "missing_type", "type is required: stage, deal or response.");
        }
        else if (type is not (OutcomeTypes.Stage or OutcomeTypes.Deal or OutcomeTypes.Response))
        {
            Fail("type", "invalid_type", "type must be one of: stage, deal, response.");
        }

        var occurredAt = default(DateTimeOffset);
        if (payload.OccurredAt is null)
        {
            Fail("occurred_at", "missing_timestamp", "occurred_at is required: outcomes are ordered by when they happened, e.g. 2026-11-23T10:15:00Z.");
        }
        else if (!Rfc3339.TryParse(payload.OccurredAt, out occurredAt))
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

        var sourceSystem = Text(payload.SourceSystem, "source_system");
        var owner = Text(payload.Owner, "owner");

        var leads = new List<OutcomeLead>();
        var own = Lead(payload.LeadId, payload.Email, payload.Phone, payload.ExternalId, "");
        if (own is not null)
        {
            leads.Add(own);
        }

        string? stage = null, dealId = null, currency = null, status = null, channel = null, by = null;
        decimal? amount = null;
        switch (type)
        {
            case OutcomeTypes.Stage:
                stage = payload.Stage?.Trim().ToLowerInvariant();
                if (stage is null)
                {
                    Fail("stage", "missing_stage", "stage is required: lead, mql, sql, opportunity, customer or disqualified.");
                }
                else if (!Stages.IsKnown(stage))
                {
                    Fail("stage", "invalid_stage", "stage must be one of: lead, mql, sql, opportunity, customer, disqualified.");
                }

                break;
            case OutcomeTypes.Deal:
                dealId = Text(payload.DealId, "deal_id");
                if (dealId is null && errors?.Exists(static e => e.Field == "deal_id") != true)
                {
                    Fail("deal_id", "missing_deal_id", "deal_id is required for a deal.");
                }

                amount = payload.Amount;
                if (amount is null)
                {
                    Fail("amount", "missing_amount", "amount is required for a deal.");
                }
                else if (amount < 0)
                {
                    Fail("amount", "negative_amount", "amount must not be negative.");
                }

                currency = Currencies.Normalize(payload.Currency);
                if (currency is null)
                {
                    Fail("currency", payload.Currency is null ? "missing_currency" : "invalid_currency", "currency must be an ISO 4217 code such as USD or EUR.");
                }

                status = payload.Status?.Trim().ToLowerInvariant();
                if (status is not ("open" or "won" or "lost"))
                {
                    Fail("status", status is null ? "missing_status" : "invalid_status", "status must be one of: open, won, lost.");
                }

                if (payload.Leads is { } refs)
                {
                    // The leads list names the buying group with its primary first; the outcome's own identity, if any, is the primary.
                    leads.Clear();
                    for (var i = 0; i < refs.Count; i++)
                    {
                        if (Lead(refs[i].LeadId, refs[i].Email, refs[i].Phone, refs[i].ExternalId, $"leads[{i}].") is { } lead)
                        {
                            leads.Add(lead);
                        }
                        else if (errors?.Exists(e => e.Field.StartsWith($"leads[{i}].", StringComparison.Ordinal)) != true)
                        {
                            Fail($"leads[{i}]", "no_identity", "Each lead on a deal needs lead_id, email, phone or external_id.");
                        }
                    }

                    if (own is not null)
                    {
                        leads.Insert(0, own);
                    }
                }

                for (var i = 0; payload.LeadIds is { } ids && i < ids.Count; i++)
                {
                    if (Lead(ids[i], null, null, null, "") is { } lead)
                    {
                        leads.Add(lead);
                    }
                }

                if (leads.Count > MaxDealLeads)
                {
                    Fail("leads", "too_many_leads", $"A deal may name at most {MaxDealLeads} leads.");
                }

                break;
            case OutcomeTypes.Response:
                channel = payload.Channel?.Trim().ToLowerInvariant();
                if (channel is not ("call" or "email" or "sms" or "meeting" or "other"))
                {
                    Fail("channel", channel is null ? "missing_channel" : "invalid_channel", "channel must be one of: call, email, sms, meeting, other.");
                }

                by = Text(payload.By, "by");
                break;
        }

        if (leads.Count == 0 && errors?.Exists(static e => e.Field is "lead_id" or "email" or "phone" or "external_id" || e.Field.StartsWith("leads", StringComparison.Ordinal)) != true)
        {
            Fail("identities", "no_identity", "An outcome needs its lead: lead_id, email, phone or external_id (a deal may list them in leads).");
        }

        // Same lead twice on a deal (by the same identity) counts once.
        leads = leads.DistinctBy(static l => l.StrongestKey()).ToList();

        var eventId = payload.EventId?.Trim();
        if (eventId is not null && (eventId.Length == 0 || eventId.Length > limits.MaxEventIdLength || eventId.AsSpan().ContainsAnyInRange('\0', ' ')))
        {
            Fail("event_id", "invalid_event_id", $"event_id must be 1-{limits.MaxEventIdLength} printable characters without spaces.");
        }

        if (errors is not null)
        {
            return new OutcomeBuildResult(null, errors);
        }

        var record = new OutcomeRecord
        {
            EventId = "",
            Type = type!,
            OccurredAt = occurredAt,
            ReceivedAt = context.ReceivedAt,
            Door = context.Door,
            SourceSystem = sourceSystem,
            Leads = leads,
            Owner = owner,
            Stage = stage,
            DealId = dealId,
            Amount = amount,
            Currency = currency,
            Status = status,
            Channel = channel,
            By = by,
        };
        record.EventId = eventId ?? context.DerivedEventId ?? DeriveEventId(record);
        return new OutcomeBuildResult(record, []);

        string? Text(string? value, string field)
        {
            var trimmed = string.IsNullOrWhiteSpace(value) ? null : value.Trim();
            if (trimmed is not null && (trimmed.Length > MaxTextLength || trimmed.AsSpan().ContainsAnyInRange('\0', '\u001f')))
            {
                Fail(field, "invalid_text", $"{field} must be at most {MaxTextLength} characters without control characters.");
                return null;
            }

            return trimmed;
        }

        OutcomeLead? Lead(string? leadId, string? email, string? phone, string? externalId, string prefix)
        {
            var lead = new OutcomeLead();
            if (!string.IsNullOrWhiteSpace(leadId))
            {
                if (Guid.TryParse(leadId.Trim(), out var id))
                {
                    lead.LeadId = id;
                }
                else
                {
                    Fail(prefix + "lead_id", "invalid_lead_id", "lead_id must be a lead id (a UUID) this API returned.");
                }
            }

            if (!string.IsNullOrWhiteSpace(email))
            {
                lead.Email = email.Length <= limits.MaxIdentityLength ? IdentityNormalizer.NormalizeEmail(email) : null;
                if (lead.Email is null)
                {
                    Fail(prefix + "email", "invalid_email", "email is not a valid address.");
                }
            }

            if (!string.IsNullOrWhiteSpace(phone))
            {
                lead.Phone = phone.Length <= limits.MaxIdentityLength ? identities.NormalizePhone(phone) : null;
                if (lead.Phone is null)
                {
                    Fail(prefix + "phone", "invalid_phone", $"phone is not a possible phone number (numbers without a country code are read as {identities.DefaultRegion}).");
                }
            }

            var external = IdentityNormalizer.NormalizeOpaqueId(externalId);
            if (external is not null && (external.Length > limits.MaxIdentityLength || external.AsSpan().ContainsAnyInRange('\0', '\u001f')))
            {
                Fail(prefix + "external_id", "invalid_identity", $"external_id must be at most {limits.MaxIdentityLength} characters without control characters.");
                external = null;
            }

            lead.ExternalId = external;
            return lead.LeadId is null && lead.Email is null && lead.Phone is null && lead.ExternalId is null ? null : lead;
        }
    }

    /// <summary>
    /// A UUID-shaped id from a SHA-256 of everything the outcome says (type, when, which leads, what), so the same outcome
    /// posted twice without an event id is stored once, and two different outcomes never share an id.
    /// </summary>
    public static string DeriveEventId(OutcomeRecord record)
    {
        var text = new StringBuilder()
            .Append(record.Type).Append('|').Append(record.SourceSystem).Append('|')
            .Append(record.OccurredAt.UtcTicks.ToString(CultureInfo.InvariantCulture)).Append('|')
            .AppendJoin(',', record.Leads.Select(static l => l.StrongestKey())).Append('|')
            .Append(record.Owner).Append('|').Append(record.Stage).Append('|').Append(record.DealId).Append('|')
            .Append(record.Amount?.ToString(CultureInfo.InvariantCulture)).Append('|').Append(record.Currency).Append('|')
            .Append(record.Status).Append('|').Append(record.Channel).Append('|').Append(record.By)
            .ToString();
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8 (RFC 9562: custom)
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // variant
        return new Guid(hash[..16], bigEndian: true).ToString();
    }
}
