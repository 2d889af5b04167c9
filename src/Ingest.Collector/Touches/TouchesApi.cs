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

        if (items!.Items.Count > MaxBatchTouches)
        {
            return ProblemResponses.Problem(StatusCodes.Status413PayloadTooLarge, ProblemTypes.TooLarge,
                $"A batch may hold at most {MaxBatchTouches} touches; this one holds {items.Items.Count}.", "touches");
        }

        var receivedAt = time.GetUtcNow();
        var context = new TouchContext { Door = Door, ReceivedAt = receivedAt };
        var outcomes = await intake.AcceptManyAsync(items.Items, _ => context, cancellationToken);

        return BatchBody.Answer(http, outcomes, items.ParseErrors, producer.Value);
    }

    private static ParsedBatch<TouchPayload> ParseBatch(ReadOnlySequence<byte> body) =>
        BatchBody.Parse(body, "touches", "touch", IngestJsonContext.Default.TouchPayload);
}
