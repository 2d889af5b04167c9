using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Ingest.Collector.Kafka;
using Ingest.Collector.Touches;
using Ingest.Core.Touches;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ingest.Collector.Http;

/// <summary>The items of a batch body, each deserialized on its own: an item that does not parse has its error instead.</summary>
public sealed record ParsedBatch<T>(List<T?> Items, List<FieldError?> ParseErrors)
    where T : class;

/// <summary>
/// What the batch doors (touches, outcomes) share: one pass over <c>{"&lt;name&gt;": [...]}</c> where a wrongly typed
/// field rejects only its item, and the per-item answer (202, or 503 with <c>Retry-After</c> when any item is unavailable).
/// </summary>
public static class BatchBody
{
    /// <summary>Parses the array named <paramref name="name"/> (other properties are ignored); <paramref name="noun"/> names one item in errors.</summary>
    public static ParsedBatch<T> Parse<T>(ReadOnlySequence<byte> body, string name, string noun, JsonTypeInfo<T> type)
        where T : class
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"The body must be an object: {{\"{name}\": [...]}}.");
        }

        var nameUtf8 = Encoding.UTF8.GetBytes(name);
        ParsedBatch<T>? batch = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals(nameUtf8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw new JsonException($"'{name}' must be an array.", "$." + name, null, null);
            }

            batch = new ParsedBatch<T>([], []);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var index = batch.Items.Count;
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    batch.Items.Add(null);
                    batch.ParseErrors.Add(new FieldError($"{name}[{index}]", "malformed", $"Each {noun} must be a JSON object."));
                    continue;
                }

                var item = reader;
                try
                {
                    batch.Items.Add(JsonSerializer.Deserialize(ref item, type));
                    batch.ParseErrors.Add(null);
                }
                catch (JsonException ex)
                {
                    var path = ex.Path is { Length: > 1 } p ? p.TrimStart('$', '.') : "";
                    batch.Items.Add(null);
                    batch.ParseErrors.Add(new FieldError(path.Length > 0 ? $"{name}[{index}].{path}" : $"{name}[{index}]", "malformed",
                        path.Length > 0 ? $"Field '{path}' has the wrong type or shape." : $"The {noun} is not a valid object."));
                }

                reader.Skip();
            }
        }

        return batch ?? throw new JsonException($"The body must hold a '{name}' array.", "$." + name, null, null);
    }

    /// <summary>
    /// One result per item: rejected (its parse or validation errors), unavailable (Kafka did not acknowledge it) or
    /// accepted. Any unavailable item makes the answer 503 with <c>Retry-After</c>: accepted items stay accepted, and
    /// the client retries only the unavailable ones, with the same event ids.
    /// </summary>
    public static Results<Accepted<BatchResult>, JsonHttpResult<BatchResult>, ProblemHttpResult> Answer(HttpContext http, IReadOnlyList<IntakeOutcome> outcomes,
        IReadOnlyList<FieldError?> parseErrors, TouchProducerOptions producer)
    {
        var results = new BatchItemResult[outcomes.Count];
        int accepted = 0, rejected = 0, unavailable = 0;
        for (var i = 0; i < outcomes.Count; i++)
        {
            if (parseErrors[i] is { } parseError)
            {
                rejected++;
                results[i] = new BatchItemResult(i, null, "rejected", [parseError]);
            }
            else if (outcomes[i].Rejected)
            {
                rejected++;
                results[i] = new BatchItemResult(i, outcomes[i].EventId, "rejected", outcomes[i].Errors);
            }
            else if (outcomes[i].Unavailable)
            {
                unavailable++;
                results[i] = new BatchItemResult(i, outcomes[i].EventId, "unavailable", null);
            }
            else
            {
                accepted++;
                results[i] = new BatchItemResult(i, outcomes[i].EventId, "accepted", null);
            }
        }

        var body = new BatchResult(accepted, rejected, unavailable, results);
        if (unavailable > 0)
        {
            IntakeAnswers.SetRetryAfter(http, producer);
            return TypedResults.Json(body, CollectorJsonContext.Default.BatchResult, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return TypedResults.Accepted((string?)null, body);
    }
}
