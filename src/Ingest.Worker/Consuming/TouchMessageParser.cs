using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;
using Ingest.Storage.Touches;

namespace Ingest.Worker.Consuming;

/// <summary>Turns a <c>touches.v1</c> message into a touch to store, or the reason it must be dead-lettered.</summary>
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

        if (TouchRecordJson.ContainsNul(message.Value))
        {
            // Postgres cannot store U+0000; the collector replaces it, so only a foreign producer sends one.
            reason = "record holds an escaped NUL (\\u0000), which Postgres cannot store";
            return false;
        }

        try
        {
            var parsed = JsonSerializer.Deserialize(message.Value, IngestJsonContext.Default.TouchRecord);
            if (parsed is null)
            {
                reason = "message is JSON null";
                return false;
            }

            if (string.IsNullOrWhiteSpace(parsed.EventId) || parsed.EventId.Length > 256)
            {
                reason = "event_id missing or longer than 256 characters";
                return false;
            }

            parsed.Attribution ??= new();
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
        catch (JsonException ex)
        {
            reason = "invalid JSON: " + ex.Message;
            return false;
        }
    }
}
