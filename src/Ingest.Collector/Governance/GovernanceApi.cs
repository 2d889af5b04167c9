using Ingest.Collector.Http;
using Ingest.Collector.Problems;
using Ingest.Collector.Security;
using Ingest.Core.Governance;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ingest.Collector.Governance;

/// <summary><c>POST /v1/governance/preview</c>: what governance makes of a link before a campaign launches (read key).</summary>
public static class GovernanceApi
{
    private const int MaxPreviewBytes = 32 * 1024;

    public static IEndpointRouteBuilder MapGovernanceApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/governance")
            .WithTags("Governance")
            .RequireAuthorization(ApiKeyAuthentication.ReadPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        group.MapPost("/preview", Preview)
            .WithName("PreviewGovernance")
            .WithSummary("Normalize and classify a URL or a set of UTM fields")
            .WithDescription("Answers the raw and normalized values, click id and network, referrer class, the configured channel, the GA4 channel and every violation. Nothing is stored.")
            .Accepts<TouchPayload>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesFieldProblem();
        return app;
    }

    public static async Task<Results<Ok<GovernanceResult>, ProblemHttpResult>> Preview(
        HttpContext http, IGovernanceEvaluator governance, CancellationToken cancellationToken)
    {
        var (payload, problem) = await RequestBody.ReadJsonAsync(http.Request, MaxPreviewBytes, IngestJsonContext.Default.TouchPayload, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var input = TouchBuilder.GovernanceInputOf(payload!, payload!.Kind?.Trim().Equals("call", StringComparison.OrdinalIgnoreCase) == true);
        if (input.PageUrl is null && input.Referrer is null && input.UtmSource is null && input.UtmMedium is null && input.UtmCampaign is null
            && input.UtmTerm is null && input.UtmContent is null && input.UtmId is null && input.ClickIds is null)
        {
            return ProblemResponses.Validation([new FieldError("page_url", "nothing_to_preview",
                "Send at least a page_url, a referrer, a utm_* field or a click id.")]);
        }

        return TypedResults.Ok(governance.Evaluate(input));
    }
}
