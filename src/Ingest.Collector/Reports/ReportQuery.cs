using Ingest.Collector.Problems;
using Ingest.Core.Time;
using Ingest.Storage.Leads;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ingest.Collector.Reports;

/// <summary>The query parameters every report shares, read the same way with the same 400 answers.</summary>
public static class ReportQuery
{
    /// <summary>The period <c>[from, to)</c> (RFC 3339; default the last 30 days), or the 400 answer naming the bad bound.</summary>
    public static ProblemHttpResult? Window(string? from, string? to, TimeProvider time, out DateTimeOffset start, out DateTimeOffset end)
    {
        var now = time.GetUtcNow();
        (start, end) = (now.AddDays(-30), now);
        if (from is not null && !Rfc3339.TryParse(from, out start))
        {
            return Bad("from", "from must be an RFC 3339 timestamp, e.g. 2026-11-01T00:00:00Z.");
        }

        if (to is not null && !Rfc3339.TryParse(to, out end))
        {
            return Bad("to", "to must be an RFC 3339 timestamp, e.g. 2026-12-01T00:00:00Z.");
        }

        return end <= start ? Bad("to", "to must be after from.") : null;
    }

    /// <summary>b2b (default) or ga4, or the 400 answer.</summary>
    public static ProblemHttpResult? Taxonomy(string? taxonomy, out bool ga4)
    {
        var tax = (taxonomy ?? "b2b").ToLowerInvariant();
        ga4 = tax == "ga4";
        return tax is "b2b" or "ga4" ? null : Bad("taxonomy", "taxonomy must be b2b or ga4.");
    }

    /// <summary>A 400 bad-query problem naming <paramref name="field"/>.</summary>
    public static ProblemHttpResult Bad(string field, string detail) =>
        ProblemResponses.Problem(StatusCodes.Status400BadRequest, ProblemTypes.BadQuery, detail, field);

    /// <summary>Which touch of a lead a report reads: first (default), latest or lead_created; or the 400 answer.</summary>
    public static ProblemHttpResult? Touch(string? touch, out ReportTouch which)
    {
        ReportTouch? parsed = (touch ?? "first").ToLowerInvariant() switch
        {
            "first" => ReportTouch.First,
            "latest" => ReportTouch.Latest,
            "lead_created" => ReportTouch.LeadCreated,
            _ => null,
        };
        which = parsed ?? ReportTouch.First;
        return parsed is null ? Bad("touch", "touch must be first, latest or lead_created.") : null;
    }
}
