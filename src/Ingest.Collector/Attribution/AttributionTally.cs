using Ingest.Core.Attribution;
using Ingest.Storage.Attribution;

namespace Ingest.Collector.Attribution;

/// <summary>
/// Sums conversions' credits per model and group as journeys stream in. A conversion with no eligible touch credits
/// <see cref="NoGroup"/>, so each model's credits add up to <see cref="Conversions"/>.
/// </summary>
public sealed class AttributionTally(IReadOnlyList<AttributionModel> models, AttributionOptions options, Func<JourneyTouchRow, string?> groupOf)
{
    public const string NoGroup = "(none)";

    private readonly Dictionary<AttributionModel, Dictionary<string, double>> _sums =
        models.Distinct().ToDictionary(static m => m, static _ => new Dictionary<string, double>(StringComparer.Ordinal));

    public long Conversions { get; private set; }

    /// <summary>Credits one converted lead.</summary>
    public void Add(LeadJourney journey)
    {
        Conversions++;
        var credit = AttributionModels.Credit(journey.ToJourney(), options, models);
        var rows = journey.Touches.ToDictionary(static t => t.EventId, StringComparer.Ordinal);
        foreach (var (model, sums) in _sums)
        {
            if (credit.Credited.Count == 0)
            {
                sums[NoGroup] = sums.GetValueOrDefault(NoGroup) + 1;
                continue;
            }

            foreach (var touch in credit.Credited)
            {
                var group = groupOf(rows[touch.Touch.EventId]) ?? NoGroup;
                sums[group] = sums.GetValueOrDefault(group) + touch.Weights[model];
            }
        }
    }

    /// <summary>Each model's groups with their credit and share of the conversions, largest first, keyed by the model's wire name.</summary>
    public Dictionary<string, IReadOnlyList<AttributionCredit>> Credits(IReadOnlyDictionary<AttributionModel, string> names) =>
        _sums.ToDictionary(
            s => names[s.Key],
            s => (IReadOnlyList<AttributionCredit>)s.Value
                .Where(static g => g.Value > 0)
                .OrderByDescending(static g => g.Value).ThenBy(static g => g.Key, StringComparer.Ordinal)
                .Select(g => new AttributionCredit(g.Key, g.Value, Conversions == 0 ? 0 : g.Value / Conversions))
                .ToList());
}
