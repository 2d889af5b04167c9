using Ingest.Core.Governance;

namespace Ingest.Core.Attribution;

/// <summary>
/// Shares one conversion's credit among its eligible touches under each model. Pure: the reports and the per-lead
/// explanation call it with the same inputs and get the same weights. The rules, with worked examples, are in
/// docs/attribution.md.
/// </summary>
public static class AttributionModels
{
    public static IReadOnlyList<AttributionModel> All { get; } = Enum.GetValues<AttributionModel>();

    /// <summary>The eligible touches of <paramref name="journey"/>, their roles and weights under <paramref name="models"/>, and the touches left out.</summary>
    public static JourneyCredit Credit(Journey journey, AttributionOptions options, IReadOnlyCollection<AttributionModel> models)
    {
        var ordered = journey.Touches.OrderBy(static t => t.OccurredAt).ThenBy(static t => t.EventId, StringComparer.Ordinal).ToList();
        var since = journey.ConversionAt.AddDays(-options.LookbackDays);
        var eligible = new List<JourneyTouch>(ordered.Count);
        var leftOut = new List<LeftOutTouch>();
        foreach (var touch in ordered)
        {
            var reason = options.ExcludedKinds?.Contains(touch.Kind) == true ? "excluded_kind"
                : touch.OccurredAt > journey.ConversionAt ? "after_conversion"
                : touch.OccurredAt < since ? "outside_lookback"
                : null;
            if (reason is null)
            {
                eligible.Add(touch);
            }
            else
            {
                leftOut.Add(new LeftOutTouch(touch, reason));
            }
        }

        if (eligible.Count == 0)
        {
            return new JourneyCredit([], leftOut);
        }

        var milestones = Milestones.Of(eligible, journey);
        var weights = models.Distinct().ToDictionary(static m => m, m => Weigh(m, eligible, milestones, journey.ConversionAt, options.HalfLifeDays));
        var credited = new List<CreditedTouch>(eligible.Count);
        for (var i = 0; i < eligible.Count; i++)
        {
            var index = i;
            credited.Add(new CreditedTouch(eligible[i], milestones.RolesOf(i), weights.ToDictionary(static w => w.Key, w => w.Value[index])));
        }

        return new JourneyCredit(credited, leftOut);
    }

    private static double[] Weigh(AttributionModel model, List<JourneyTouch> touches, Milestones m, DateTimeOffset conversionAt, double halfLifeDays)
    {
        var n = touches.Count;
        var weights = new double[n];
        switch (model)
        {
            case AttributionModel.First:
                weights[0] = 1;
                break;
            case AttributionModel.Last:
                weights[n - 1] = 1;
                break;
            case AttributionModel.LastNonDirect:
                var lastNonDirect = touches.FindLastIndex(static t => t.Channel is not (Channels.B2b.Direct or Channels.Ga4.Direct));
                weights[lastNonDirect >= 0 ? lastNonDirect : n - 1] = 1;
                break;
            case AttributionModel.Linear:
                Array.Fill(weights, 1.0 / n);
                break;
            case AttributionModel.TimeDecay:
                for (var i = 0; i < n; i++)
                {
                    weights[i] = Math.Pow(2, -(conversionAt - touches[i].OccurredAt).TotalDays / halfLifeDays);
                }

                Normalize(weights);
                break;
            case AttributionModel.UShaped:
                // The touches strictly between the first and the lead-creation touch share the rest; after it, nothing.
                var end = m.LeadCreation ?? n;
                PositionBased(weights, [(0, 0.4), (m.LeadCreation, 0.4)], 0.2, Enumerable.Range(1, Math.Max(0, end - 1)));
                break;
            case AttributionModel.WShaped:
                PositionBased(weights, [(0, 0.3), (m.LeadCreation, 0.3), (m.Opportunity, 0.3)], 0.1, Enumerable.Range(0, n));
                break;
            case AttributionModel.FullPath:
                PositionBased(weights, [(0, 0.225), (m.LeadCreation, 0.225), (m.Opportunity, 0.225), (m.Close, 0.225)], 0.1, Enumerable.Range(0, n));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(model), model, null);
        }

        return weights;
    }

    /// <summary>
    /// Milestone shares to their touches (coinciding milestones add up); the rest share equally to the
    /// <paramref name="candidates"/> that are no milestone; a missing milestone's share, and the rest's share when no
    /// touch is left for it, go to the milestone touches that exist in proportion to what they hold.
    /// </summary>
    private static void PositionBased(double[] weights, (int? Index, double Share)[] slots, double restShare, IEnumerable<int> candidates)
    {
        var leftover = 0.0;
        var held = new HashSet<int>();
        foreach (var (index, share) in slots)
        {
            if (index is { } i)
            {
                weights[i] += share;
                held.Add(i);
            }
            else
            {
                leftover += share;
            }
        }

        var rest = candidates.Where(i => !held.Contains(i)).ToList();
        if (rest.Count == 0)
        {
            leftover += restShare;
        }
        else
        {
            foreach (var i in rest)
            {
                weights[i] += restShare / rest.Count;
            }
        }

        if (leftover > 0)
        {
            var total = held.Sum(i => weights[i]);
            foreach (var i in held.ToList())
            {
                weights[i] += leftover * weights[i] / total;
            }
        }
    }

    private static void Normalize(double[] weights)
    {
        var sum = weights.Sum();
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] /= sum;
        }
    }

    /// <summary>Where the milestones fall among the eligible touches (indexes; null when not among them).</summary>
    private sealed record Milestones(int Last, int? LeadCreation, int? Opportunity, int? Close)
    {
        public static Milestones Of(List<JourneyTouch> eligible, Journey journey)
        {
            int? leadCreation = journey.LeadCreatedEventId is { } id && eligible.FindIndex(t => t.EventId == id) is >= 0 and var at ? at : null;
            return new Milestones(eligible.Count - 1, leadCreation, LastAtOrBefore(eligible, ReachedBy(journey.OpportunityAt, journey.ConversionAt)),
                LastAtOrBefore(eligible, ReachedBy(journey.CustomerAt, journey.ConversionAt)));
        }

        public TouchRoles RolesOf(int index) =>
            (index == 0 ? TouchRoles.First : TouchRoles.None)
            | (index == LeadCreation ? TouchRoles.LeadCreation : TouchRoles.None)
            | (index == Opportunity ? TouchRoles.OpportunityCreation : TouchRoles.None)
            | (index == Close ? TouchRoles.Close : TouchRoles.None)
            | (index == Last ? TouchRoles.Last : TouchRoles.None);

        // A milestone reached only after the conversion is not part of its journey (every eligible touch is at or
        // before the conversion, so "the last touch at or before it" would otherwise pick the last touch).
        private static DateTimeOffset? ReachedBy(DateTimeOffset? milestone, DateTimeOffset conversionAt) => milestone <= conversionAt ? milestone : null;

        private static int? LastAtOrBefore(List<JourneyTouch> eligible, DateTimeOffset? at) =>
            at is { } time && eligible.FindLastIndex(t => t.OccurredAt <= time) is >= 0 and var index ? index : null;
    }
}
