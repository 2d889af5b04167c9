using Ingest.Core.Attribution;
using Ingest.Storage.Attribution;

namespace Ingest.Collector.Attribution;

/// <summary>
/// Sums conversions' credits per model and group as journeys stream in, each conversion weighing its value (1 for a
/// count, its revenue otherwise). A conversion with no eligible touch credits <see cref="NoGroup"/>, so each model's
/// credits add up to <see cref="Total"/>.
/// </summary>
public sealed class AttributionTally(IReadOnlyList<AttributionModel> models, AttributionOptions options, bool ga4, Func<JourneyTouchRow, string?> groupOf)
{
    public const string NoGroup = "(none)";

    private readonly Dictionary<AttributionModel, Dictionary<string, double>> _sums =
        models.Distinct().ToDictionary(static m => m, static _ => new Dictionary<string, double>(StringComparer.Ordinal));

    public long Conversions { get; private set; }

    /// <summary>The sum of the conversions' values: what every model's credits add up to.</summary>
    public double Total { get; private set; }

    /// <summary>Credits one converted lead worth <paramref name="value"/>.</summary>
    public void Add(LeadJourney journey, double value = 1)
    {
        Conversions++;
        Total += value;
        var credit = AttributionModels.Credit(journey.ToJourney(ga4), options, models);
        var rows = journey.Touches.ToDictionary(static t => t.EventId, StringComparer.Ordinal);
        foreach (var (model, sums) in _sums)
        {
            if (credit.Credited.Count == 0)
            {
                sums[NoGroup] = sums.GetValueOrDefault(NoGroup) + value;
                continue;
            }

            foreach (var touch in credit.Credited)
            {
                var group = groupOf(rows[touch.Touch.EventId]) ?? NoGroup;
                sums[group] = sums.GetValueOrDefault(group) + (touch.Weights[model] * value);
            }
        }
    }

    /// <summary>Each model's groups with their credit and share of <see cref="Total"/>, largest first, keyed by the model's wire name.</summary>
    public Dictionary<string, IReadOnlyList<AttributionCredit>> Credits(IReadOnlyDictionary<AttributionModel, string> names) =>
        _sums.ToDictionary(
            s => names[s.Key],
            s => (IReadOnlyList<AttributionCredit>)s.Value
                .Where(static g => g.Value > 0)
                .OrderByDescending(static g => g.Value).ThenBy(static g => g.Key, StringComparer.Ordinal)
                .Select(g => new AttributionCredit(g.Key, g.Value, Total == 0 ? 0 : g.Value / Total))
                .ToList());
}
