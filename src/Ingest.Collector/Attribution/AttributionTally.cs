using Ingest.Core.Attribution;
using Ingest.Storage.Attribution;

namespace Ingest.Collector.Attribution;

/// <summary>
/// Sums conversions' credits per model and group as journeys stream in, each conversion weighing its value (1 for a
/// count, its revenue otherwise). A conversion with no eligible touch credits <see cref="NoGroup"/>, so each model's
/// credits add up to <see cref="Total"/>. The report's hot loop: one group lookup per eligible touch, the models'
/// shares added into that group's row.
/// </summary>
public sealed class AttributionTally(IReadOnlyList<AttributionModel> models, AttributionOptions options)
{
    public const string NoGroup = "(none)";

    private readonly AttributionModel[] _models = [.. models.Distinct()];

    // One set of share buffers for every conversion the report weighs.
    private readonly JourneyWeights _weights = new();

    // Group → its credit under each model (indexed as _models).
    private readonly Dictionary<string, double[]> _sums = new(StringComparer.Ordinal);

    public long Conversions { get; private set; }

    /// <summary>The sum of the conversions' values: what every model's credits add up to.</summary>
    public double Total { get; private set; }

    /// <summary>Credits one converted lead worth <paramref name="value"/>.</summary>
    public void Add(ConvertedLead lead, double value = 1)
    {
        Conversions++;
        Total += value;
        var weighed = AttributionModels.Weigh(lead.ToJourney(), options, _models, _weights);
        var eligible = weighed.Eligible;
        if (eligible.Length == 0)
        {
            var none = Row(NoGroup);
            for (var m = 0; m < _models.Length; m++)
            {
                none[m] += value;
            }

            return;
        }

        for (var k = 0; k < eligible.Length; k++)
        {
            var row = Row(lead.Groups[eligible[k]] ?? NoGroup);
            for (var m = 0; m < _models.Length; m++)
            {
                row[m] += weighed.Weight(m, k) * value;
            }
        }
    }

    /// <summary>Each model's groups with their credit and share of <see cref="Total"/>, largest first, keyed by the model's wire name.</summary>
    public Dictionary<string, IReadOnlyList<AttributionCredit>> Credits(IReadOnlyDictionary<AttributionModel, string> names)
    {
        var credits = new Dictionary<string, IReadOnlyList<AttributionCredit>>(_models.Length, StringComparer.Ordinal);
        for (var m = 0; m < _models.Length; m++)
        {
            var model = m;
            credits[names[_models[m]]] = _sums
                .Where(g => g.Value[model] > 0)
                .OrderByDescending(g => g.Value[model]).ThenBy(static g => g.Key, StringComparer.Ordinal)
                .Select(g => new AttributionCredit(g.Key, g.Value[model], Total == 0 ? 0 : g.Value[model] / Total))
                .ToList();
        }

        return credits;
    }

    private double[] Row(string group)
    {
        if (!_sums.TryGetValue(group, out var row))
        {
            _sums[group] = row = new double[_models.Length];
        }

        return row;
    }
}
