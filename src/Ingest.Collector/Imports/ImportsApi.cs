using Ingest.Collector.Kafka;
using Ingest.Collector.Security;
using Ingest.Collector.Touches;
using Ingest.Collector.Uploads;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Ingest.Collector.Imports;

/// <summary><c>POST /v1/imports/touches</c>: offline touches (badge scans, trade-show lists, manual entries) from a CSV file (server key).</summary>
public static class ImportsApi
{
    public static IEndpointRouteBuilder MapImportsApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/imports")
            .WithTags("Imports")
            .RequireAuthorization(ApiKeyAuthentication.ServerPolicy)
            .RequireRateLimiting(TouchesApi.RateLimitPolicy)
            .MapPost("/touches", PostTouches)
            .WithName("ImportTouches")
            .WithSummary("Import offline touches from a CSV file")
            .WithDescription("text/csv with the header occurred_at,email,phone,external_id,event_code,source,medium,campaign (values may be blank; further columns become the touch's properties; "
                + "at most 10,000 rows and 8 MiB). Each row becomes a touch of kind offline that goes through Kafka and the worker like every touch: identities normalized and resolved, "
                + "source, medium and campaign governed. event_code names an entry of the governance rules' event_codes, which sets the touch's channel and campaign; an unknown code "
                + "rejects the row. A row's event_id is import: + the SHA-256 of its normalized content, so uploading the same file again stores nothing twice. "
                + "Each row gets its own result; when Kafka did not take some rows the answer is 503 with Retry-After: send the file again.")
            .Accepts<string>("text/csv")
            .Produces<UploadResult>(StatusCodes.Status202Accepted)
            .Produces<UploadResult>(StatusCodes.Status503ServiceUnavailable)
            .ProducesUploadProblems();
        return app;
    }

    public static async Task<Results<JsonHttpResult<UploadResult>, ProblemHttpResult>> PostTouches(
        HttpContext http, TouchImport import, IOptions<TouchProducerOptions> producer, CancellationToken cancellationToken)
    {
        if (!UploadRows.IsCsv(http.Request))
        {
            return UploadRows.UnsupportedMediaType("text/csv");
        }

        var (records, problem) = await UploadRows.ReadCsvAsync(http.Request, TouchImport.Columns, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        return UploadRows.Answer(http, await import.AcceptAsync(records!, cancellationToken), StatusCodes.Status202Accepted, producer.Value);
    }
}
