namespace Ingest.Storage.Reports;

/// <summary>What a funnel groups leads by: a field of their first, latest or lead-creation touch.</summary>
public enum FunnelGrouping
{
    Channel,
    Ga4Channel,
    Source,
    Medium,
    Campaign,

    /// <summary>The lead's current sales owner (from its outcomes); leads without one are <c>(none)</c>.</summary>
    Owner,

    /// <summary>The touch's source detail (search engine, network, referring domain, campaign …); <c>(none)</c> when unset.</summary>
    SourceDetail,

    /// <summary>How the touch entered (web_form, visit, api, call_tracking, ad_form, import, crm); <c>(none)</c> when unset.</summary>
    Method,
}

/// <summary>What speed-to-lead groups leads by: the lead-creation touch's channel or kind, or the lead's owner.</summary>
public enum SpeedGrouping
{
    Channel,
    Kind,
    Owner,
}

/// <summary>Report settings (<c>Reports</c>): the currency revenue is reported in, conversion rates, coverage thresholds.</summary>
public sealed class ReportSettings
{
    /// <summary>When a report is only directional (<c>Reports:Coverage</c>).</summary>
    public CoverageThresholds Coverage { get; set; } = new();

    /// <summary>Working hours for the speed-to-lead clock (<c>Reports:BusinessHours</c>); unset, the clock never stops.</summary>
    public Ingest.Core.Time.BusinessHours BusinessHours { get; set; } = new();

    /// <summary>ISO 4217 code every amount is reported in (<c>Reports:Currency</c>).</summary>
    public string Currency { get; set; } = "USD";

    /// <summary>Units of <see cref="Currency"/> per unit of each other currency (<c>Reports:Rates:EUR</c> = 1.08).</summary>
    public Dictionary<string, decimal> Rates { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The amount in the report currency; null when no rate is configured for <paramref name="currency"/>.</summary>
    public decimal? Convert(decimal amount, string currency) =>
        string.Equals(currency, Currency, StringComparison.OrdinalIgnoreCase) ? amount
        : Rates.TryGetValue(currency, out var rate) ? amount * rate
        : null;

    /// <summary>Whether an answer can be given in <paramref name="target"/>: it is <see cref="Currency"/> or has a rate.</summary>
    public bool CanConvertInto(string target) => string.Equals(target, Currency, StringComparison.OrdinalIgnoreCase) || Rates.ContainsKey(target);

    /// <summary>
    /// The amount in <paramref name="target"/>, through <see cref="Currency"/> (amount × rate of its currency ÷ rate of
    /// the target); as it is when both currencies are the same; null when a rate is missing.
    /// </summary>
    public decimal? Convert(decimal amount, string currency, string target) =>
        string.Equals(currency, target, StringComparison.OrdinalIgnoreCase) ? amount
        : Convert(amount, currency) is not { } reported ? null
        : string.Equals(target, Currency, StringComparison.OrdinalIgnoreCase) ? reported
        : Rates.TryGetValue(target, out var rate) ? reported / rate
        : null;
}

/// <summary>Above these shares a report is flagged <c>directional</c>: too little of it is attributed or consented to be trusted as exact.</summary>
public sealed class CoverageThresholds
{
    /// <summary>Largest share of leads whose touch is unattributed (direct/other, GA4 Direct/Unassigned) for an exact report.</summary>
    public double MaxUnattributedShare { get; set; } = 0.3;

    /// <summary>Largest share of leads without consent granted for an exact report.</summary>
    public double MaxNonConsentedShare { get; set; } = 0.5;
}

/// <summary>
/// How far a report can be trusted, over the leads it counts: the shares whose lead-creation touch granted consent (any
/// consent flag true), whose reported touch is unattributed or broke a governance rule, and who told us a self-reported
/// source; <c>directional</c> when the unattributed or non-consented share exceeds its <c>Reports:Coverage</c> threshold.
/// </summary>
public sealed record ReportCoverage(long Leads, double ConsentGranted, double Unattributed, double GovernanceViolations, double SelfReported, bool Directional);

/// <summary>Each funnel step's conversion rate (0 when the step before it is empty).</summary>
public sealed record FunnelConversion(double LeadToMql, double MqlToSql, double SqlToOpportunity, double OpportunityToCustomer, double LeadToCustomer);

/// <summary>Median days between consecutive milestones, over the leads that recorded both (null when none did).</summary>
public sealed record MilestoneDays(double? LeadToMql, double? MqlToSql, double? SqlToOpportunity, double? OpportunityToCustomer);

/// <summary>
/// One group of a funnel: leads that reached each milestone ever (reaching a stage counts as passing the ones before it),
/// the conversions, and the deals whose primary lead is in the group (each deal once, in its latest state). Where spend
/// matches the group (<c>POST /v1/costs</c>): its cost, the cost per lead, sql and customer (null without any) and
/// <c>roas</c>, won revenue ÷ cost.
/// </summary>
public sealed record FunnelRow(
    string Group, long Leads, long Mql, long Sql, long Opportunity, long Customer, FunnelConversion Conversion,
    long WonDeals, decimal Revenue, decimal AvgDealSize, double WinRate, double? MedianDaysToCustomer, MilestoneDays MedianDaysBetween,
    decimal? Cost = null, decimal? CostPerLead = null, decimal? CostPerSql = null, decimal? CostPerCustomer = null, double? Roas = null);

/// <summary>The funnel of the leads created in one period (a week or month of lead creation).</summary>
public sealed record FunnelPeriod(DateTimeOffset PeriodStart, IReadOnlyList<FunnelRow> Groups, FunnelRow Totals);

/// <summary>
/// Lead → MQL → SQL → opportunity → customer by source, with revenue, win rate, sales cycle and spend; spend in a currency
/// without a rate is listed in <c>unconverted_costs</c> per currency and counted nowhere else.
/// </summary>
public sealed record FunnelReport(
    DateTimeOffset From, DateTimeOffset To, string Touch, string GroupBy, string Taxonomy, string Currency, string? Interval,
    IReadOnlyList<FunnelRow> Groups, FunnelRow Totals, IReadOnlyList<FunnelPeriod>? Periods, long UnconvertedDeals, ReportCoverage Coverage,
    IReadOnlyList<Costs.UnconvertedCost> UnconvertedCosts);

/// <summary>Leads by how fast sales first answered, with how many of them reached sql and customer.</summary>
public sealed record ResponseBucket(string Bucket, long Leads, double SqlRate, double CustomerRate);

/// <summary>One group of the speed-to-lead report; minutes are from lead creation to the first response.</summary>
public sealed record SpeedRow(
    string Group, long Leads, long Responded, double? MedianMinutes, double? P90Minutes, double Within5Minutes, double Within1Hour, double Within24Hours,
    double Never, IReadOnlyList<ResponseBucket> Buckets);

/// <summary>Speed-to-lead for the leads created in a period.</summary>
public sealed record SpeedToLeadReport(DateTimeOffset From, DateTimeOffset To, string GroupBy, IReadOnlyList<SpeedRow> Groups, SpeedRow Totals, ReportCoverage Coverage);

/// <summary>One detected channel's leads by what they said brought them (self-reported answer, normalized).</summary>
public sealed record SelfReportedRow(string Channel, long Leads, long Answered, IReadOnlyList<SelfReportedCell> Answers);

/// <summary>How many leads of a channel gave this answer.</summary>
public sealed record SelfReportedCell(string Answer, long Leads);

/// <summary>
/// Detected first-touch channel × self-reported answer for the leads created in a period: what the tracking saw against
/// what people say (a direct or unattributed lead that says "a podcast" is dark social).
/// </summary>
public sealed record SelfReportedReport(DateTimeOffset From, DateTimeOffset To, string Taxonomy, long Leads, long Answered, IReadOnlyList<SelfReportedRow> Channels,
    IReadOnlyList<SelfReportedCell> Answers, ReportCoverage Coverage);
