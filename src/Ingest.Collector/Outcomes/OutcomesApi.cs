using System.Buffers;
using System.Text.Json;
using Ingest.Collector.Http;
using Ingest.Collector.Kafka;
using Ingest.Collector.Problems;
using Ingest.Collector.Security;
using Ingest.Collector.Touches;
using Ingest.Core.Outcomes;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Ingest.Collector.Outcomes;

/// <summary><c>POST /v1/outcomes</c> and <c>POST /v1/outcomes/batch</c>: lifecycle stages, deals and sales responses from servers (server key).</summary>
public static class OutcomesApi
{
    public const int MaxOutcomeBytes = 32 * 1024;
    public const int MaxBatchBytes = 1024 * 1024;
    public const int MaxBatchOutcomes = 500;
    private const string Door = "api";

    public static IEndpointRouteBuilder MapOutcomesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/outcomes")
            .WithTags("Outcomes")
            .RequireAuthorization(ApiKeyAuthentication.ServerPolicy)
            .RequireRateLimiting(TouchesApi.RateLimitPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapPost("/", PostOutcome)
            .WithName("PostOutcome")
            .WithSummary("Record one outcome: a stage change, a deal's state or a sales response")
            .WithDescription("type=stage (stage: lead|mql|sql|opportunity|customer|disqualified), type=deal (deal_id, amount, currency, status: open|won|lost, optional leads: the buying group, primary first) "
                + "or type=response (channel: call|email|sms|meeting|other, by). The lead is named by lead_id, email, phone or external_id (normalized like touches); an unknown identity creates the lead. "
                + "Answers 202 once Kafka has acknowledged it; without event_id one is derived from the content, so a resend is stored once.")
            .Accepts<OutcomePayload>("application/json")
            .ProducesFieldProblem();

        group.MapPost("/batch", PostBatch)
            .WithName("PostOutcomeBatch")
            .WithSummary("Record up to 500 outcomes")
            .WithDescription("Each item gets its own result; a bad item never costs the good ones. Items marked unavailable may be retried with the same event_id.")
            .Accepts<OutcomeBatchRequest>("application/json");

        return app;
    }

    public static async Task<Results<Accepted<OutcomeAccepted>, ProblemHttpResult>> PostOutcome(
        HttpContext http, OutcomeIntake intake, TimeProvider time, IOptions<TouchProducerOptions> producer, CancellationToken cancellationToken)
    {
        var (payload, problem) = await RequestBody.ReadJsonAsync(http.Request, MaxOutcomeBytes, IngestJsonContext.Default.OutcomePayload, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var outcome = await intake.AcceptAsync(payload!, new OutcomeContext { Door = Door, ReceivedAt = time.GetUtcNow() }, cancellationToken);
        if (IntakeAnswers.Problem(http, outcome, producer.Value) is { } answer)
        {
            return answer;
        }

        return TypedResults.Accepted((string?)null, new OutcomeAccepted(outcome.EventId!, "accepted"));
    }

    public static async Task<Results<Accepted<BatchResult>, JsonHttpResult<BatchResult>, ProblemHttpResult>> PostBatch(
        HttpContext http, OutcomeIntake intake, TimeProvider time, IOptions<TouchProducerOptions> producer, CancellationToken cancellationToken)
    {
        var (items, problem) = await RequestBody.ReadAsync(http.Request, MaxBatchBytes, ParseBatch, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (items!.Payloads.Count > MaxBatchOutcomes)
        {
            return ProblemResponses.Problem(StatusCodes.Status413PayloadTooLarge, ProblemTypes.TooLarge,
                $"A batch may hold at most {MaxBatchOutcomes} outcomes; this one holds {items.Payloads.Count}.", "outcomes");
        }

        var context = new OutcomeContext { Door = Door, ReceivedAt = time.GetUtcNow() };
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
            IntakeAnswers.SetRetryAfter(http, producer.Value);
            return TypedResults.Json(body, CollectorJsonContext.Default.BatchResult, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return TypedResults.Accepted((string?)null, body);
    }

    private sealed record ParsedBatch(List<OutcomePayload?> Payloads, List<FieldError?> ParseErrors);

    // As the touch batch: one pass, each item deserialized on its own so a wrongly typed field rejects only that item.
    private static ParsedBatch ParseBatch(ReadOnlySequence<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("The body must be an object: {\"outcomes\": [...]}.");
        }

        ParsedBatch? batch = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("outcomes"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw new JsonException("'outcomes' must be an array.", "$.outcomes", null, null);
            }

            batch = new ParsedBatch([], []);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var index = batch.Payloads.Count;
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    batch.Payloads.Add(null);
                    batch.ParseErrors.Add(new FieldError($"outcomes[{index}]", "malformed", "Each outcome must be a JSON object."));
                    continue;
                }

                var item = reader;
                try
                {
                    batch.Payloads.Add(JsonSerializer.Deserialize(ref item, IngestJsonContext.Default.OutcomePayload));
                    batch.ParseErrors.Add(null);
                }
                catch (JsonException ex)
                {
                    var path = ex.Path is { Length: > 1 } p ? p.TrimStart('$', '.') : "";
                    batch.Payloads.Add(null);
                    batch.ParseErrors.Add(new FieldError(path.Length > 0 ? $"outcomes[{index}].{path}" : $"outcomes[{index}]", "malformed",
                        path.Length > 0 ? $"Field '{path}' has the wrong type or shape." : "The outcome is not a valid object."));
                }

                reader.Skip();
            }
        }

        return batch ?? throw new JsonException("The body must hold an 'outcomes' array.", "$.outcomes", null, null);
    }
}
