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
    IReadOnlyList<string> Roles, IReadOnlyDictionary<string, double> Weights);

/// <summary>A touch that gets no credit: <c>excluded_kind</c>, <c>after_conversion</c> or <c>outside_lookback</c>.</summary>
public sealed record LeftOutTouchView(string EventId, string Kind, DateTimeOffset OccurredAt, string Reason);

/// <summary>
/// Conversions in [from, to) credited per model and group; each model's credits add up to <c>total</c>: the number of
/// conversions (<c>value=count</c>) or their revenue in <c>currency</c> (<c>value=revenue</c>, which also counts the
/// <c>unconverted_deals</c> left out for want of a rate). A conversion with no eligible touch credits the group <c>(none)</c>.
/// </summary>
public sealed record AttributionReport(
    DateTimeOffset From, DateTimeOffset To, string Conversion, string Value, string? Currency, string Taxonomy, string GroupBy, int LookbackDays,
    long Conversions, double Total, long? UnconvertedDeals, IReadOnlyDictionary<string, IReadOnlyList<AttributionCredit>> Models);

/// <summary>A group's credit under one model and its share of the model's total.</summary>
public sealed record AttributionCredit(string Group, double Credit, double Share);
