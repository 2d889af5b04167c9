using Ingest.Collector.Problems;
using Ingest.Collector.Security;
using Ingest.Core.Time;
using Ingest.Storage.Leads;
using Ingest.Storage.Reports;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

using static Ingest.Collector.Reports.ReportQuery;

namespace Ingest.Collector.Reports;

/// <summary><c>GET /v1/reports/channels</c>, <c>/funnel</c> and <c>/speed-to-lead</c>: leads per channel, source quality and speed-to-lead for a period (read key).</summary>
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
            .WithDescription("from/to are RFC 3339 (default: the last 30 days); touch=first|latest|lead_created (default first); only leads are counted, not visitors (histories of visits alone); taxonomy=b2b|ga4 (default b2b); "
                + "group_by=channel|source_detail|method (default channel) counts by that touch's channel, source detail (search engine, network, referring domain, campaign, tracking number, event code) "
                + "or method (web_form, visit, api, call_tracking, ad_form, import, crm), each row's channel field holding the group ((none) when unset). "
                + "unattributed_share is the direct+other (GA4: Direct+Unassigned) share; violation_rate the share of touches in the period with governance violations.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        var group = app.MapGroup("/v1/reports")
            .WithTags("Reports")
            .RequireAuthorization(ApiKeyAuthentication.ReadPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        group.MapGet("/funnel", Funnel)
            .WithName("FunnelReport")
            .WithSummary("Lead → MQL → SQL → opportunity → customer by source, with revenue, win rate and sales cycle")
            .WithDescription("For the leads created in [from, to) (creation = the lead-creation touch's occurred_at; default the last 30 days), grouped by group_by=channel|ga4_channel|source|medium|campaign|owner|source_detail|method "
                + "of their touch=first|latest|lead_created (default first) touch; taxonomy=b2b|ga4 picks the channel of group_by=channel. Each group counts the leads that reached each milestone ever "
                + "(reaching a stage counts as passing the ones before it), each step's conversion, won_deals and revenue (won deals in their latest state, each deal once, credited to its primary lead's group, "
                + "in Reports:Currency with the configured Reports:Rates; deals in a currency without a rate are counted in unconverted_deals), avg_deal_size, win_rate (won ÷ closed), "
                + "median_days_to_customer from lead creation and the median days between consecutive milestones. interval=week|month adds the same per period of lead creation. "
                + "Where spend (POST /v1/costs) matches the group by the same governed field: cost, cost_per_lead, cost_per_sql, cost_per_customer and roas (won revenue ÷ cost), over the days "
                + "that start in the window (or period); groups with spend and no leads are listed; spend in a currency without a rate is listed in unconverted_costs. "
                + "coverage says how far the answer can be trusted: shares with consent granted, unattributed, with governance violations, with a self-reported source, and directional when Reports:Coverage thresholds are exceeded.");

        group.MapGet("/speed-to-lead", SpeedToLead)
            .WithName("SpeedToLeadReport")
            .WithSummary("How fast sales first answered new leads, and how those leads converted")
            .WithDescription("For the leads created in [from, to): median and p90 (nearest rank) minutes from lead creation to the first response outcome, the shares answered within 5 minutes, "
                + "1 hour, 24 hours and never, and per response bucket (5m, 1h, 24h, later, never) the rate of reaching sql and customer. group_by=channel|kind|owner (channel and kind of the lead-creation "
                + "touch, taxonomy=b2b|ga4; owner = the lead's current owner). coverage as in the funnel.");

        group.MapGet("/self-reported", SelfReported)
            .WithName("SelfReportedReport")
            .WithSummary("Detected first-touch channel × self-reported source: how big dark social is")
            .WithDescription("For the leads created in [from, to): per first-touch channel (taxonomy=b2b|ga4), how many leads answered \"how did you hear about us?\" and with what, "
                + "answers normalized by the rules file's self_reported_aliases (then source_aliases); plus the answers over all leads and coverage.");
        return app;
    }

    public static async Task<Results<Ok<SelfReportedReport>, ProblemHttpResult>> SelfReported(
        string? from, string? to, string? taxonomy, OutcomeReports reports, Ingest.Core.Governance.GovernanceRulesProvider rules, IOptions<ReportSettings> settings, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (Window(from, to, time, out var start, out var end) is { } bad)
        {
            return bad;
        }

        if (Taxonomy(taxonomy, out var ga4) is { } badTaxonomy)
        {
            return badTaxonomy;
        }

        var current = rules.Current;
        return TypedResults.Ok(await reports.SelfReportedAsync(start, end, ga4, current.NormalizeSelfReported, settings.Value.Coverage, cancellationToken));
    }

    public static async Task<Results<Ok<FunnelReport>, ProblemHttpResult>> Funnel(
        string? from, string? to, string? touch, string? group_by, string? taxonomy, string? interval, OutcomeReports reports, IOptions<ReportSettings> currency, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (Window(from, to, time, out var start, out var end) is { } bad)
        {
            return bad;
        }

        if (Touch(touch, out var which) is { } badTouch)
        {
            return badTouch;
        }

        FunnelGrouping? grouping = (group_by ?? "channel").ToLowerInvariant() switch
        {
            "channel" => FunnelGrouping.Channel,
            "ga4_channel" => FunnelGrouping.Ga4Channel,
            "source" => FunnelGrouping.Source,
            "medium" => FunnelGrouping.Medium,
            "campaign" => FunnelGrouping.Campaign,
            "owner" => FunnelGrouping.Owner,
            "source_detail" => FunnelGrouping.SourceDetail,
            "method" => FunnelGrouping.Method,
            _ => null,
        };
        if (grouping is null)
        {
            return Bad("group_by", "group_by must be channel, ga4_channel, source, medium, campaign, owner, source_detail or method.");
        }

        if (Taxonomy(taxonomy, out var ga4) is { } badTaxonomy)
        {
            return badTaxonomy;
        }

        var period = interval?.ToLowerInvariant();
        if (period is not (null or "week" or "month"))
        {
            return Bad("interval", "interval must be week or month.");
        }

        return TypedResults.Ok(await reports.FunnelAsync(start, end, which, grouping.Value, ga4, period, currency.Value, cancellationToken));
    }

    public static async Task<Results<Ok<SpeedToLeadReport>, ProblemHttpResult>> SpeedToLead(
        string? from, string? to, string? group_by, string? taxonomy, OutcomeReports reports, IOptions<ReportSettings> settings, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Window(from, to, time, out var start, out var end) is { } bad)
        {
            return bad;
        }

        SpeedGrouping? grouping = (group_by ?? "channel").ToLowerInvariant() switch
        {
            "channel" => SpeedGrouping.Channel,
            "kind" => SpeedGrouping.Kind,
            "owner" => SpeedGrouping.Owner,
            _ => null,
        };
        if (grouping is null)
        {
            return Bad("group_by", "group_by must be channel, kind or owner.");
        }

        if (Taxonomy(taxonomy, out var ga4) is { } badTaxonomy)
        {
            return badTaxonomy;
        }

        return TypedResults.Ok(await reports.SpeedToLeadAsync(start, end, grouping.Value, ga4, settings.Value.Coverage, cancellationToken, settings.Value.BusinessHours));
    }

    public static async Task<Results<Ok<ChannelReport>, ProblemHttpResult>> Channels(
        string? from, string? to, string? touch, string? taxonomy, string? group_by, LeadQueries queries, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Window(from, to, time, out var start, out var end) is { } bad)
        {
            return bad;
        }

        if (Touch(touch, out var which) is { } badTouch)
        {
            return badTouch;
        }

        if (Taxonomy(taxonomy, out var ga4) is { } badTaxonomy)
        {
            return badTaxonomy;
        }

        ChannelGrouping? grouping = (group_by ?? "channel").ToLowerInvariant() switch
        {
            "channel" => ChannelGrouping.Channel,
            "source_detail" => ChannelGrouping.SourceDetail,
            "method" => ChannelGrouping.Method,
            _ => null,
        };
        if (grouping is null)
        {
            return Bad("group_by", "group_by must be channel, source_detail or method.");
        }

        return TypedResults.Ok(await queries.ChannelReportAsync(start, end, which, ga4, cancellationToken, grouping.Value));
    }
}
