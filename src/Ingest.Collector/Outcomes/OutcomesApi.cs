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

        if (items!.Items.Count > MaxBatchOutcomes)
        {
            return ProblemResponses.Problem(StatusCodes.Status413PayloadTooLarge, ProblemTypes.TooLarge,
                $"A batch may hold at most {MaxBatchOutcomes} outcomes; this one holds {items.Items.Count}.", "outcomes");
        }

        var context = new OutcomeContext { Door = Door, ReceivedAt = time.GetUtcNow() };
        var outcomes = await intake.AcceptManyAsync(items.Items, _ => context, cancellationToken);

        return BatchBody.Answer(http, outcomes, items.ParseErrors, producer.Value);
    }

    private static ParsedBatch<OutcomePayload> ParseBatch(ReadOnlySequence<byte> body) =>
        BatchBody.Parse(body, "outcomes", "outcome", IngestJsonContext.Default.OutcomePayload);
}
