using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Ingest.Core.Governance;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;
using Ingest.Storage.Touches;

namespace Ingest.Worker.Consuming;

/// <summary>
/// Turns a <c>touches.v1</c> message into a touch to store, or the reason it must be dead-lettered. Required values and
/// lengths are checked here, with the collector's limits, so a record from another producer that Postgres would refuse
/// (a null door, an over-long id) never reaches a transaction.
/// </summary>
public static class TouchMessageParser
{
    /// <summary>Parses <paramref name="message"/>; false with a human-readable <paramref name="reason"/> when it is poison.</summary>
    public static bool TryParse(Message<byte[]?, byte[]> message, [NotNullWhen(true)] out ResolvedTouch? touch, out string reason)
    {
        touch = null;
        if (message.Headers?.TryGetLastBytes(TouchHeaders.SchemaVersion, out var version) == true
            && !version.AsSpan().SequenceEqual(TouchHeaders.CurrentSchemaVersion))
        {
            reason = $"unsupported {TouchHeaders.SchemaVersion} {Encoding.UTF8.GetString(version)}";
            return false;
        }

        if (message.Value is null)
        {
            reason = "message has no value";
            return false;
        }

        if (TouchRecordJson.ContainsNul(message.Value))
        {
            // Postgres cannot store U+0000; the collector replaces it, so only a foreign producer sends one.
            reason = "record holds an escaped NUL (\\u0000), which Postgres cannot store";
            return false;
        }

        TouchRecord? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize(message.Value, IngestJsonContext.Default.TouchRecord);
        }
        catch (JsonException ex)
        {
            reason = "invalid JSON: " + ex.Message;
            return false;
        }

        if (parsed is null)
        {
            reason = "message is JSON null";
            return false;
        }

        if (Invalid(parsed) is { } invalid)
        {
            reason = invalid;
            return false;
        }

        var candidate = new ResolvedTouch(parsed, message.Value);
        if (candidate.Keys.Count == 0)
        {
            reason = "touch carries no identity key";
            return false;
        }

        touch = candidate;
        reason = "";
        return true;
    }

    /// <summary>What makes a deserialized record unstorable, or null; fills in the optional parts left null.</summary>
    private static string? Invalid(TouchRecord record)
    {
        if (string.IsNullOrWhiteSpace(record.EventId) || record.EventId.Length > TouchRecord.MaxEventIdLength)
        {
            return $"event_id missing or longer than {TouchRecord.MaxEventIdLength} characters";
        }

        if (!Enum.IsDefined(record.Kind))
        {
            return "kind is not one of form, call, ad, visit, offline";
        }

        if (string.IsNullOrWhiteSpace(record.Door) || record.Door.Length > TouchRecord.MaxDoorLength)
        {
            return $"door missing or longer than {TouchRecord.MaxDoorLength} characters";
        }

        record.Identities ??= new();
        var ids = record.Identities;
        if (TooLong(ids.Email) || TooLong(ids.Phone) || TooLong(ids.AnonymousId) || TooLong(ids.ExternalId))
        {
            return $"an identity is longer than {TouchRecord.MaxIdentityLength} characters";
        }

        record.Attribution ??= new();
        var attribution = record.Attribution;
        if (string.IsNullOrEmpty(attribution.Channel) || string.IsNullOrEmpty(attribution.Ga4Channel))
        {
            return "attribution has no channel or ga4_channel";
        }

        attribution.Violations ??= [];
        if (attribution.ClickId?.Length > GovernanceEngine.MaxClickIdLength
            || record.ClickIds?.Values.Any(static v => v is null || v.Length > GovernanceEngine.MaxClickIdLength) == true)
        {
            return $"a click id is missing or longer than {GovernanceEngine.MaxClickIdLength} characters";
        }

        return null;
    }

    private static bool TooLong(string? identity) => identity?.Length > TouchRecord.MaxIdentityLength;
}
