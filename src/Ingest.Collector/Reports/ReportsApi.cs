using Ingest.Collector.Problems;
using Ingest.Collector.Security;
using Ingest.Core.Time;
using Ingest.Storage.Leads;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ingest.Collector.Reports;

/// <summary><c>GET /v1/reports/channels</c>: leads per channel for a period (read key).</summary>
public static class ReportsApi
{
    public static IEndpointRouteBuilder MapReportsApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/reports")
            .WithTags("Reports")
            .RequireAuthorization(ApiKeyAuthentication.ReadPolicy)
            .MapGet("/channels", Channels)
            .WithName("ChannelReport")
            .WithSummary("Leads per channel, by first, latest or lead-creation touch, in the b2b or GA4 taxonomy")
            .WithDescription("from/to are RFC 3339 (default: the last 30 days); touch=first|latest|lead_created (default first); only leads are counted, not visitors (histories of visits alone); taxonomy=b2b|ga4 (default b2b). "
                + "unattributed_share is the direct+other (GA4: Direct+Unassigned) share; violation_rate the share of touches in the period with governance violations.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return app;
    }

    public static async Task<Results<Ok<ChannelReport>, ProblemHttpResult>> Channels(
        string? from, string? to, string? touch, string? taxonomy, LeadQueries queries, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        DateTimeOffset start = now.AddDays(-30), end = now;
        if (from is not null && !Rfc3339.TryParse(from, out start))
        {
            return Bad("from", "from must be an RFC 3339 timestamp, e.g. 2026-11-01T00:00:00Z.");
        }

        if (to is not null && !Rfc3339.TryParse(to, out end))
        {
            return Bad("to", "to must be an RFC 3339 timestamp, e.g. 2026-12-01T00:00:00Z.");
        }

        if (end <= start)
        {
            return Bad("to", "to must be after from.");
        }

        ReportTouch? which = (touch ?? "first").ToLowerInvariant() switch
        {
            "first" => ReportTouch.First,
            "latest" => ReportTouch.Latest,
            "lead_created" => ReportTouch.LeadCreated,
            _ => null,
        };
        if (which is null)
        {
            return Bad("touch", "touch must be first, latest or lead_created.");
        }

        var tax = (taxonomy ?? "b2b").ToLowerInvariant();
        if (tax is not ("b2b" or "ga4"))
        {
            return Bad("taxonomy", "taxonomy must be b2b or ga4.");
        }

        return TypedResults.Ok(await queries.ChannelReportAsync(start, end, which.Value, tax == "ga4", cancellationToken));

        static ProblemHttpResult Bad(string field, string detail) =>
            ProblemResponses.Problem(StatusCodes.Status400BadRequest, ProblemTypes.BadQuery, detail, field);
    }
}
