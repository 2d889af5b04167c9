using Ingest.Collector.Http;
using Ingest.Collector.Problems;
using Ingest.Collector.Security;
using Ingest.Collector.Touches;
using Ingest.Collector.Uploads;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ingest.Collector.Costs;

/// <summary><c>POST /v1/costs</c>: daily spend per source, medium and campaign, as JSON or CSV (server key).</summary>
public static class CostsApi
{
    public static IEndpointRouteBuilder MapCostsApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/costs")
            .WithTags("Costs")
            .RequireAuthorization(ApiKeyAuthentication.ServerPolicy)
            .RequireRateLimiting(TouchesApi.RateLimitPolicy)
            .MapPost("/", PostCosts)
            .WithName("PostCosts")
            .WithSummary("Record daily spend per source, medium and campaign")
            .WithDescription("A JSON array of {date, source, medium, campaign, amount, currency} or text/csv with the header date,source,medium,campaign,amount,currency "
                + "(campaign may be blank; at most 10,000 rows and 8 MiB). source, medium and campaign are normalized and classified by the governance rules, exactly as a touch's "
                + "utm_source, utm_medium and utm_campaign, so the spend lands on the funnel groups of the touches it paid for. Idempotent per (UTC day, source, medium, campaign): "
                + "a re-post replaces the amount and currency (status replaced). Each row gets its own result; a bad row is answered with its row number and problems and never costs the good ones.")
            .Accepts<IReadOnlyList<CostUploadRow>>("application/json", "text/csv")
            .Produces<UploadResult>(StatusCodes.Status200OK)
            .ProducesUploadProblems();
        return app;
    }

    public static async Task<Results<JsonHttpResult<UploadResult>, ProblemHttpResult>> PostCosts(HttpContext http, CostIntake intake, CancellationToken cancellationToken)
    {
        List<UploadRecord>? records;
        ProblemHttpResult? problem;
        if (UploadRows.IsCsv(http.Request))
        {
            (records, problem) = await UploadRows.ReadCsvAsync(http.Request, CostIntake.Columns, cancellationToken);
        }
        else if (RequestBody.IsJsonContentType(http.Request))
        {
            (records, problem) = await UploadRows.ReadJsonAsync(http.Request, cancellationToken);
        }
        else
        {
            return UploadRows.UnsupportedMediaType("application/json (an array of cost rows) or text/csv");
        }

        if (problem is not null)
        {
            return problem;
        }

        return UploadRows.Answer(http, await intake.StoreAsync(records!, cancellationToken), StatusCodes.Status200OK);
    }
}

/// <summary>One day's spend as sent (documentation type of the JSON body; CSV rows have the same columns).</summary>
public sealed record CostUploadRow(string Date, string Source, string Medium, string? Campaign, decimal Amount, string Currency);
