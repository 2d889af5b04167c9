using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ingest.Collector.Touches;
using Ingest.Collector.Uploads;
using Ingest.Core.Governance;
using Ingest.Core.Identity;
using Ingest.Core.Time;
using Ingest.Core.Touches;

namespace Ingest.Collector.Imports;

/// <summary>
/// Offline touches from a file (badge scans, trade-show lists, manual entries): each row becomes a touch of kind
/// <c>offline</c> and goes through <see cref="TouchIntake"/> like every touch (validation, identities, governance, Kafka,
/// the worker). A row's event id is derived from its normalized content, so a re-uploaded file stores nothing twice.
/// </summary>
public sealed partial class TouchImport(TouchIntake intake, IdentityNormalizer identities, GovernanceRulesProvider rules, TimeProvider time, ILogger<TouchImport> logger)
{
    /// <summary>The columns every file's header names (values may be blank); further columns become the touch's properties.</summary>
    public static readonly string[] Columns = ["occurred_at", "email", "phone", "external_id", "event_code", "source", "medium", "campaign"];

    /// <summary>The door offline touches are recorded with.</summary>
    public const string Door = "import";

    // Kafka takes the rows in slices, so a large file never holds more than this many unacknowledged touches at once.
    private const int ProduceSlice = 500;

    /// <summary>Takes the rows of a file in and answers every row.</summary>
    public async Task<UploadRowResult?[]> AcceptAsync(IReadOnlyList<UploadRecord> records, CancellationToken cancellationToken)
    {
        var current = rules.Current;
        var receivedAt = time.GetUtcNow();
        var (good, results) = UploadRows.Map(records, record => Parse(record, current, receivedAt));
        foreach (var slice in good.Chunk(ProduceSlice))
        {
            var outcomes = await intake.AcceptManyAsync([.. slice.Select(static g => g.Value.Payload)], i => slice[i].Value.Context, cancellationToken);
            for (var j = 0; j < slice.Length; j++)
            {
                var record = records[slice[j].Index];
                var outcome = outcomes[j];
                results[slice[j].Index] = outcome.Rejected ? UploadRows.Reject(record, outcome.Errors)
                    : new UploadRowResult(record.Row, record.Line, outcome.Unavailable ? UploadRowResult.Unavailable : "accepted", outcome.EventId);
            }
        }

        LogImport(logger, results.Count(static r => r?.Status == "accepted"), results.Count(static r => r?.Status == UploadRowResult.Rejected),
            results.Count(static r => r?.Status == UploadRowResult.Unavailable));
        return results;
    }

    private (ImportedTouch? Touch, IReadOnlyList<FieldError> Errors) Parse(UploadRecord record, GovernanceRules current, DateTimeOffset receivedAt)
    {
        var errors = new List<FieldError>();
        var occurredText = record["occurred_at"];
        var occurredAt = default(DateTimeOffset);
        if (occurredText is null)
        {
            errors.Add(new FieldError("occurred_at", "missing_timestamp", "occurred_at is required: when the scan or entry happened, e.g. 2026-11-23T10:15:00Z."));
        }
        else if (!Rfc3339.TryParse(occurredText, out occurredAt))
        {
            errors.Add(new FieldError("occurred_at", "invalid_timestamp", "occurred_at must be an RFC 3339 timestamp with an offset, e.g. 2026-11-23T10:15:00Z."));
        }

        var code = record["event_code"];
        var campaign = record["campaign"];
        if (code is not null)
        {
            if (current.EventCode(code) is not { } rule)
            {
                errors.Add(new FieldError("event_code", "unknown_event_code", $"event_code '{Shorten(code)}' is not listed in the governance rules' event_codes."));
            }
            else if (rule.Campaign is { } mapped && campaign is not null && !mapped.Equals(campaign, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add(new FieldError("campaign", "campaign_conflict", $"campaign '{Shorten(campaign)}' contradicts event_code {Shorten(code)}'s campaign {mapped}; leave it blank or use {mapped}."));
            }
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var extra = record.Fields.Keys.Where(static c => !Columns.Contains(c)).Order(StringComparer.Ordinal).Select(c => (Column: c, Value: record[c])).Where(static e => e.Value is not null).ToList();
        var payload = new TouchPayload
        {
            OccurredAt = occurredText,
            Email = record["email"],
            Phone = record["phone"],
            ExternalId = record["external_id"],
            UtmSource = record["source"],
            UtmMedium = record["medium"],
            UtmCampaign = campaign,
            Properties = extra.Count == 0 ? null : PropertiesOf(extra!),
        };

        // The normalized row: the same scan written with other spacing, case or phone format is the same touch.
        var normalized = string.Join('\u001f', [
            occurredAt.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            IdentityNormalizer.NormalizeEmail(payload.Email) ?? payload.Email,
            identities.NormalizePhone(payload.Phone) ?? payload.Phone,
            IdentityNormalizer.NormalizeOpaqueId(payload.ExternalId),
            code?.ToUpperInvariant(),
            payload.UtmSource?.ToLowerInvariant(),
            payload.UtmMedium?.ToLowerInvariant(),
            campaign?.ToLowerInvariant(),
            .. extra.Select(static e => e.Column + "=" + e.Value),
        ]);
        var context = new TouchContext
        {
            Door = Door,
            ReceivedAt = receivedAt,
            DefaultKind = TouchKind.Offline,
            DerivedEventId = "import:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalized))),
            Provider = code is null ? null : new Dictionary<string, string> { [TouchBuilder.EventCodeFact] = code.ToUpperInvariant() },
        };
        return (new ImportedTouch(payload, context), []);
    }

    private static JsonElement PropertiesOf(List<(string Column, string Value)> extra)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var (column, value) in extra)
            {
                json.WriteString(column, value);
            }

            json.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private static string Shorten(string value) => value.Length <= 64 ? value : value[..64] + "…";

    private sealed record ImportedTouch(TouchPayload Payload, TouchContext Context);

    [LoggerMessage(EventId = 1651, EventName = "OfflineTouchesImported", Level = LogLevel.Information, Message = "Offline touches imported: {Accepted} accepted, {Rejected} rejected, {Unavailable} unavailable")]
    private static partial void LogImport(ILogger logger, int accepted, int rejected, int unavailable);
}
