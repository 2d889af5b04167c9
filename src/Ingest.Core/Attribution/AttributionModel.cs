namespace Ingest.Core.Attribution;

/// <summary>How a conversion's credit is shared among its eligible touches (docs/attribution.md).</summary>
public enum AttributionModel
{
    /// <summary>All to the earliest eligible touch.</summary>
    First,

    /// <summary>All to the latest eligible touch.</summary>
    Last,

    /// <summary>All to the latest eligible touch whose channel is not direct; the latest touch when every one is direct.</summary>
    LastNonDirect,

    /// <summary>Equal shares.</summary>
    Linear,

    /// <summary>Weight 2^(−Δt / half-life), Δt from the touch to the conversion.</summary>
    TimeDecay,

    /// <summary>40 % first, 40 % lead creation, 20 % equally to the touches between them.</summary>
    UShaped,

    /// <summary>30 % first, 30 % lead creation, 30 % opportunity creation, 10 % equally to every other touch.</summary>
    WShaped,

    /// <summary>22.5 % each to first, lead creation, opportunity creation and close, 10 % equally to every other touch.</summary>
    FullPath,
}

/// <summary>The milestones a touch stands for in a journey; one touch can hold several.</summary>
[Flags]
public enum TouchRoles
{
    None = 0,
    First = 1,
    LeadCreation = 2,
    OpportunityCreation = 4,
    Close = 8,
    Last = 16,
}

/// <summary>
/// One stored touch of a lead, as attribution sees it. <see cref="LeadCreation"/> marks the lead-creation touch when the
/// reader found it itself; the attribution report's reader does, and it reads the touches already in time order with ties
/// broken by event id, so it leaves <see cref="EventId"/> and <see cref="Kind"/> empty (excluded kinds filtered out as it reads).
/// </summary>
public readonly record struct JourneyTouch(string EventId, DateTimeOffset OccurredAt, string Channel, string Kind, bool LeadCreation = false);

/// <summary>
/// A lead's touches (any order) and the conversion to credit: its time, the lead-creation touch's event id, and the
/// opportunity and customer milestones' times when reached. A milestone after the conversion has not been reached yet
/// as far as this conversion is concerned: its role is missing (an sql conversion has no opportunity touch).
/// </summary>
public sealed record Journey(
    IReadOnlyList<JourneyTouch> Touches, DateTimeOffset ConversionAt, string? LeadCreatedEventId = null, DateTimeOffset? OpportunityAt = null,
    DateTimeOffset? CustomerAt = null);

/// <summary>Which touches are eligible: within <see cref="LookbackDays"/> before the conversion and not of an excluded kind.</summary>
public sealed record AttributionOptions(int LookbackDays = 90, double HalfLifeDays = 7, IReadOnlySet<string>? ExcludedKinds = null)
{
    public static AttributionOptions Default { get; } = new();
}

/// <summary>An eligible touch with its roles and its share of the conversion under each model asked for.</summary>
public sealed record CreditedTouch(JourneyTouch Touch, TouchRoles Roles, IReadOnlyDictionary<AttributionModel, double> Weights);

/// <summary>A touch that gets no credit, and why: <c>excluded_kind</c>, <c>after_conversion</c> or <c>outside_lookback</c>.</summary>
public sealed record LeftOutTouch(JourneyTouch Touch, string Reason);

/// <summary>The credit of one conversion: every eligible touch in time order (weights of a model sum to 1) and the touches left out.</summary>
public sealed record JourneyCredit(IReadOnlyList<CreditedTouch> Credited, IReadOnlyList<LeftOutTouch> LeftOut);

/// <summary>
/// One conversion's shares without the explanation: <see cref="Order"/> is every touch's index in time order,
/// <see cref="Eligible"/> the eligible ones' indexes (into the journey's touches, in time order) and
/// <see cref="Weight"/>(m, k) the share of <c>Eligible[k]</c> under the m-th model asked for. Reusable: a report passes
/// one instance to <see cref="AttributionModels.Weigh"/> for every conversion, and each call overwrites the last one's
/// shares, so the report allocates nothing per conversion once the buffers have grown to its longest journey.
/// </summary>
public sealed class JourneyWeights
{
    private int[] _order = [];
    private int[] _eligible = [];
    private double[][] _weights = [];
    private int _touches;
    private int _eligibleCount;
    private AttributionModels.Milestones? _milestones;

    public ReadOnlySpan<int> Order => _order.AsSpan(0, _touches);

    public ReadOnlySpan<int> Eligible => _eligible.AsSpan(0, _eligibleCount);

    /// <summary>The share of the k-th eligible touch under the m-th model asked for; a model's shares sum to 1.</summary>
    public double Weight(int model, int k) => _weights[model][k];

    /// <summary>The milestones the k-th eligible touch stands for.</summary>
    public TouchRoles RolesOf(int k) => _milestones?.RolesOf(k) ?? TouchRoles.None;

    internal Span<int> StartOrder(int touches)
    {
        _touches = touches;
        _eligibleCount = 0;
        _milestones = null;
        if (_order.Length < touches)
        {
            _order = new int[Math.Max(touches, _order.Length * 2)];
            _eligible = new int[_order.Length];
        }

        return _order.AsSpan(0, touches);
    }

    internal void AddEligible(int index) => _eligible[_eligibleCount++] = index;

    /// <summary>Keeps the milestones found among the eligible touches (for <see cref="RolesOf"/>) and hands them back.</summary>
    internal AttributionModels.Milestones Found(AttributionModels.Milestones milestones)
    {
        _milestones = milestones;
        return milestones;
    }

    /// <summary>The m-th model's shares for the eligible touches, cleared.</summary>
    internal Span<double> StartWeights(int models, int model)
    {
        if (_weights.Length < models)
        {
            Array.Resize(ref _weights, models);
        }

        if (_weights[model] is not { } weights || weights.Length < _eligibleCount)
        {
            _weights[model] = weights = new double[Math.Max(_eligibleCount, _order.Length)];
        }

        var span = weights.AsSpan(0, _eligibleCount);
        span.Clear();
        return span;
    }
}
