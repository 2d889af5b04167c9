using System.Buffers;
using System.Text.Json;
using Ingest.Collector.Http;
using Ingest.Collector.Kafka;
using Ingest.Collector.Problems;
using Ingest.Collector.Security;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Ingest.Collector.Touches;

/// <summary><c>POST /v1/touches</c> and <c>POST /v1/touches/batch</c> for scripts and ad-platform integrations (write key).</summary>
public static class TouchesApi
{
    public const int MaxTouchBytes = 32 * 1024;
    public const int MaxBatchBytes = 1024 * 1024;
    public const int MaxBatchTouches = 500;
    public const string CorsPolicy = "touches";
    public const string RateLimitPolicy = "per-key";
    private const string Door = "api";

    public static IEndpointRouteBuilder MapTouchesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/touches")
            .WithTags("Touches")
            .RequireAuthorization(ApiKeyAuthentication.WritePolicy)
            .RequireCors(CorsPolicy)
            .RequireRateLimiting(RateLimitPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapPost("/", PostTouch)
            .WithName("PostTouch")
            .WithSummary("Record one touch")
            .WithDescription("Validates, normalizes and governs the touch and answers 202 once Kafka has acknowledged it. Retrying with the same event_id never stores it twice.")
            .Accepts<TouchPayload>("application/json", "text/plain")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesFieldProblem();

        group.MapPost("/batch", PostBatch)
            .WithName("PostTouchBatch")
            .WithSummary("Record up to 500 touches")
            .WithDescription("Each item gets its own result; a bad item never costs the good ones. Items marked unavailable may be retried with the same event_id.")
            .Accepts<BatchRequest>("application/json", "text/plain")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        return app;
    }

    public static async Task<Results<Accepted<TouchAccepted>, ProblemHttpResult>> PostTouch(
        HttpContext http, TouchIntake intake, TimeProvider time, IOptions<TouchProducerOptions> producer, CancellationToken cancellationToken)
    {
        var (payload, problem) = await RequestBody.ReadJsonAsync(http.Request, MaxTouchBytes, IngestJsonContext.Default.TouchPayload, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var outcome = await intake.AcceptAsync(payload!, new TouchContext { Door = Door, ReceivedAt = time.GetUtcNow() }, cancellationToken);
        if (IntakeAnswers.Problem(http, outcome, producer.Value) is { } answer)
        {
            return answer;
        }

        return TypedResults.Accepted((string?)null, new TouchAccepted(outcome.EventId!, "accepted"));
    }

    public static async Task<Results<Accepted<BatchResult>, JsonHttpResult<BatchResult>, ProblemHttpResult>> PostBatch(
        HttpContext http, TouchIntake intake, TimeProvider time, IOptions<TouchProducerOptions> producer, CancellationToken cancellationToken)
    {
        var (items, problem) = await RequestBody.ReadAsync(http.Request, MaxBatchBytes, ParseBatch, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (items!.Payloads.Count > MaxBatchTouches)
        {
            return ProblemResponses.Problem(StatusCodes.Status413PayloadTooLarge, ProblemTypes.TooLarge,
                $"A batch may hold at most {MaxBatchTouches} touches; this one holds {items.Payloads.Count}.", "touches");
        }

        var receivedAt = time.GetUtcNow();
        var context = new TouchContext { Door = Door, ReceivedAt = receivedAt };
        var outcomes = await intake.AcceptManyAsync(items.Payloads, _ => context, cancellationToken);

        var results = new BatchItemResult[outcomes.Length];
        int accepted = 0, rejected = 0, unavailable = 0;
        for (var i = 0; i < outcomes.Length; i++)
        {
            if (items.ParseErrors[i] is { } parseError)
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
            // Accepted items stay accepted; the client retries only the unavailable ones, with the same event ids.
            IntakeAnswers.SetRetryAfter(http, producer.Value);
            return TypedResults.Json(body, CollectorJsonContext.Default.BatchResult, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return TypedResults.Accepted((string?)null, body);
    }

    private sealed record ParsedBatch(List<TouchPayload?> Payloads, List<FieldError?> ParseErrors);

    // One pass over the body: each item is deserialized on its own so a wrongly typed field rejects only that item.
    private static ParsedBatch ParseBatch(ReadOnlySequence<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("The body must be an object: {\"touches\": [...]}.");
        }

        ParsedBatch? batch = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("touches"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw new JsonException("'touches' must be an array.", "$.touches", null, null);
            }

            batch = new ParsedBatch([], []);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var index = batch.Payloads.Count;
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    batch.Payloads.Add(null);
                    batch.ParseErrors.Add(new FieldError($"touches[{index}]", "malformed", "Each touch must be a JSON object."));
                    continue;
                }

                var item = reader;
                try
                {
                    batch.Payloads.Add(JsonSerializer.Deserialize(ref item, IngestJsonContext.Default.TouchPayload));
                    batch.ParseErrors.Add(null);
                }
                catch (JsonException ex)
                {
                    var path = ex.Path is { Length: > 1 } p ? p.TrimStart('$', '.') : "";
                    batch.Payloads.Add(null);
                    batch.ParseErrors.Add(new FieldError(path.Length > 0 ? $"touches[{index}].{path}" : $"touches[{index}]", "malformed",
                        path.Length > 0 ? $"Field '{path}' has the wrong type or shape." : "The touch is not a valid object."));
                }

                reader.Skip();
            }
        }

        return batch ?? throw new JsonException("The body must hold a 'touches' array.", "$.touches", null, null);
    }
}
