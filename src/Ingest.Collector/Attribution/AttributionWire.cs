namespace Ingest.Collector.Attribution;

/// <summary>One lead's conversion explained: every eligible touch with its roles and its share under each model, and the touches left out.</summary>
public sealed record LeadAttribution(
    Guid LeadId, string Conversion, DateTimeOffset ConvertedAt, int LookbackDays, IReadOnlyList<AttributedTouch> Touches, IReadOnlyList<LeftOutTouchView> LeftOut);

/// <summary>An eligible touch: its roles (first, lead_creation, opportunity_creation, close, last) and its weight per model (each model's weights sum to 1).</summary>
public sealed record AttributedTouch(
    string EventId, string Kind, DateTimeOffset OccurredAt, string Channel, string Ga4Channel, string? Source, string? Medium, string? Campaign,
    IReadOnlyList<string> Roles, IReadOnlyDictionary<string, double> Weights);

/// <summary>A touch that gets no credit: <c>excluded_kind</c>, <c>after_conversion</c> or <c>outside_lookback</c>.</summary>
public sealed record LeftOutTouchView(string EventId, string Kind, DateTimeOffset OccurredAt, string Reason);

/// <summary>
/// Conversions in [from, to) credited per model and group; each model's credits add up to <c>conversions</c>
/// (a conversion with no eligible touch credits the group <c>(none)</c>).
/// </summary>
public sealed record AttributionReport(
    DateTimeOffset From, DateTimeOffset To, string Conversion, string Value, string GroupBy, int LookbackDays, long Conversions,
    IReadOnlyDictionary<string, IReadOnlyList<AttributionCredit>> Models);

/// <summary>A group's credit under one model and its share of the model's total.</summary>
public sealed record AttributionCredit(string Group, double Credit, double Share);
