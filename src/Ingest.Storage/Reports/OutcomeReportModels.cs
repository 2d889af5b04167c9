namespace Ingest.Storage.Reports;

/// <summary>What a funnel groups leads by: a field of their first, latest or lead-creation touch.</summary>
public enum FunnelGrouping
{
    Channel,
    Ga4Channel,
    Source,
    Medium,
    Campaign,
}

/// <summary>What speed-to-lead groups leads by: the lead-creation touch's channel or kind, or the lead's owner.</summary>
public enum SpeedGrouping
{
    Channel,
    Kind,
    Owner,
}

/// <summary>Currency conversion for revenue: the report currency and, for every other currency, its value in it.</summary>
public sealed class ReportCurrency
{
    /// <summary>ISO 4217 code every amount is reported in (<c>Reports:Currency</c>).</summary>
    public string Currency { get; set; } = "USD";

    /// <summary>Units of <see cref="Currency"/> per unit of each other currency (<c>Reports:Rates:EUR</c> = 1.08).</summary>
    public Dictionary<string, decimal> Rates { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The amount in the report currency; null when no rate is configured for <paramref name="currency"/>.</summary>
    public decimal? Convert(decimal amount, string currency) =>
        string.Equals(currency, Currency, StringComparison.OrdinalIgnoreCase) ? amount
        : Rates.TryGetValue(currency, out var rate) ? amount * rate
        : null;
}

/// <summary>Each funnel step's conversion rate (0 when the step before it is empty).</summary>
public sealed record FunnelConversion(double LeadToMql, double MqlToSql, double SqlToOpportunity, double OpportunityToCustomer, double LeadToCustomer);

/// <summary>Median days between consecutive milestones, over the leads that recorded both (null when none did).</summary>
public sealed record MilestoneDays(double? LeadToMql, double? MqlToSql, double? SqlToOpportunity, double? OpportunityToCustomer);

/// <summary>
/// One group of a funnel: leads that reached each milestone ever (reaching a stage counts as passing the ones before it),
/// the conversions, and the deals whose primary lead is in the group (each deal once, in its latest state).
/// </summary>
public sealed record FunnelRow(
    string Group, long Leads, long Mql, long Sql, long Opportunity, long Customer, FunnelConversion Conversion,
    long WonDeals, decimal Revenue, decimal AvgDealSize, double WinRate, double? MedianDaysToCustomer, MilestoneDays MedianDaysBetween);

/// <summary>The funnel of the leads created in one period (a week or month of lead creation).</summary>
public sealed record FunnelPeriod(DateTimeOffset PeriodStart, IReadOnlyList<FunnelRow> Groups, FunnelRow Totals);

/// <summary>Lead → MQL → SQL → opportunity → customer by source, with revenue, win rate and sales cycle.</summary>
public sealed record FunnelReport(
    DateTimeOffset From, DateTimeOffset To, string Touch, string GroupBy, string Taxonomy, string Currency, string? Interval,
    IReadOnlyList<FunnelRow> Groups, FunnelRow Totals, IReadOnlyList<FunnelPeriod>? Periods, long UnconvertedDeals);

/// <summary>Leads by how fast sales first answered, with how many of them reached sql and customer.</summary>
public sealed record ResponseBucket(string Bucket, long Leads, double SqlRate, double CustomerRate);

/// <summary>One group of the speed-to-lead report; minutes are from lead creation to the first response.</summary>
public sealed record SpeedRow(
    string Group, long Leads, long Responded, double? MedianMinutes, double? P90Minutes, double Within5Minutes, double Within1Hour, double Within24Hours,
    double Never, IReadOnlyList<ResponseBucket> Buckets);

/// <summary>Speed-to-lead for the leads created in a period.</summary>
public sealed record SpeedToLeadReport(DateTimeOffset From, DateTimeOffset To, string GroupBy, IReadOnlyList<SpeedRow> Groups, SpeedRow Totals);
