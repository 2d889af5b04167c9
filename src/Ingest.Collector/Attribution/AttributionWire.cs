namespace Ingest.Collector.Attribution;

/// <summary>
/// One lead's conversion explained: every eligible touch with its roles and its share under each model, and the touches
/// left out; <c>taxonomy</c> is the channel taxonomy <c>last_non_direct</c> read.
/// </summary>
public sealed record LeadAttribution(
    Guid LeadId, string Conversion, string Taxonomy, DateTimeOffset ConvertedAt, int LookbackDays, IReadOnlyList<AttributedTouch> Touches,
    IReadOnlyList<LeftOutTouchView> LeftOut);

/// <summary>An eligible touch: its roles (first, lead_creation, opportunity_creation, close, last) and its weight per model (each model's weights sum to 1).</summary>
public sealed record AttributedTouch(
    string EventId, string Kind, DateTimeOffset OccurredAt, string Channel, string Ga4Channel, string? Source, string? Medium, string? Campaign,
    IReadOnlyList<string> Roles, IReadOnlyDictionary<string, double> Weights, string? SourceDetail = null, string? Method = null);

/// <summary>A touch that gets no credit: <c>excluded_kind</c>, <c>after_conversion</c> or <c>outside_lookback</c>.</summary>
public sealed record LeftOutTouchView(string EventId, string Kind, DateTimeOffset OccurredAt, string Reason);

/// <summary>
/// Conversions in [from, to) credited per model and group; each model's credits add up to <c>total</c>: the number of
/// conversions (<c>value=count</c>) or their revenue in <c>currency</c> (<c>value=revenue</c>, which also counts the
/// <c>unconverted_deals</c> left out for want of a rate). A conversion with no eligible touch credits the group <c>(none)</c>.
/// With spend posted (<c>POST /v1/costs</c>) and a grouping spend has (channel, ga4_channel, source, medium, campaign),
/// <c>cost</c> is the spend of the window's days in the answer's currency and each credit carries its group's spend.
/// </summary>
public sealed record AttributionReport(
    DateTimeOffset From, DateTimeOffset To, string Conversion, string Value, string? Currency, string Taxonomy, string GroupBy, int LookbackDays,
    long Conversions, double Total, long? UnconvertedDeals, IReadOnlyDictionary<string, IReadOnlyList<AttributionCredit>> Models,
    decimal? Cost = null, IReadOnlyList<Ingest.Storage.Costs.UnconvertedCost>? UnconvertedCosts = null);

/// <summary>
/// A group's credit under one model and its share of the model's total; where spend matches the group, its
/// <c>cost</c>, the <c>cost_per_conversion</c> under this model (cost ÷ credited conversions, with <c>value=count</c>:
/// the cost per lead, per sql … of the conversion asked for) and <c>roas</c> (credited revenue ÷ cost, with <c>value=revenue</c>).
/// </summary>
public sealed record AttributionCredit(string Group, double Credit, double Share, decimal? Cost = null, decimal? CostPerConversion = null, double? Roas = null);
