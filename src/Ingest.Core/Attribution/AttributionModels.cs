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
        var distinct = models.Distinct().ToList();
        var weighed = Weigh(journey, options, distinct);
        var leftOut = new List<LeftOutTouch>();
        // Eligible is the subsequence of Order Weigh kept: the rest are the touches left out (their reason asked again).
        var since = journey.ConversionAt.AddDays(-options.LookbackDays);
        var next = 0;
        foreach (var i in weighed.Order)
        {
            if (next < weighed.Eligible.Count && weighed.Eligible[next] == i)
            {
                next++;
            }
            else
            {
                leftOut.Add(new LeftOutTouch(journey.Touches[i], LeftOutReason(journey.Touches[i], journey.ConversionAt, since, options)!));
            }
        }

        var credited = new List<CreditedTouch>(weighed.Eligible.Count);
        for (var k = 0; k < weighed.Eligible.Count; k++)
        {
            var shares = new Dictionary<AttributionModel, double>(distinct.Count);
            for (var m = 0; m < distinct.Count; m++)
            {
                shares[distinct[m]] = weighed.Weights[m][k];
            }

            credited.Add(new CreditedTouch(journey.Touches[weighed.Eligible[k]], weighed.RolesOf(k), shares));
        }

        return new JourneyCredit(credited, leftOut);
    }

    /// <summary>
    /// The shares alone, without the explanation <see cref="Credit"/> builds (the report's path: no allocation per
    /// touch): the eligible touches as indexes into <c>journey.Touches</c> in time order, and per model of
    /// <paramref name="models"/> (in that order) their weights, each model's summing to 1. No eligible touch: none.
    /// </summary>
    public static JourneyWeights Weigh(Journey journey, AttributionOptions options, IReadOnlyList<AttributionModel> models)
    {
        var order = TimeOrder(journey.Touches);
        var since = journey.ConversionAt.AddDays(-options.LookbackDays);
        var eligible = new List<JourneyTouch>(order.Length);
        var indexes = new List<int>(order.Length);
        foreach (var i in order)
        {
            if (LeftOutReason(journey.Touches[i], journey.ConversionAt, since, options) is null)
            {
                eligible.Add(journey.Touches[i]);
                indexes.Add(i);
            }
        }

        if (eligible.Count == 0)
        {
            return new JourneyWeights(order, indexes, [], null);
        }

        var milestones = Milestones.Of(eligible, journey);
        var weights = new double[models.Count][];
        for (var m = 0; m < models.Count; m++)
        {
            weights[m] = Weigh(models[m], eligible, milestones, journey.ConversionAt, options.HalfLifeDays);
        }

        return new JourneyWeights(order, indexes, weights, milestones);
    }

    /// <summary>Why a touch gets no credit, or null when it is eligible.</summary>
    private static string? LeftOutReason(JourneyTouch touch, DateTimeOffset conversionAt, DateTimeOffset since, AttributionOptions options) =>
        options.ExcludedKinds?.Contains(touch.Kind) == true ? "excluded_kind"
        : touch.OccurredAt > conversionAt ? "after_conversion"
        : touch.OccurredAt < since ? "outside_lookback"
        : null;

    /// <summary>Indexes of <paramref name="touches"/> by time, then event id (ordinal); no sort when they come in that order, as the store reads them.</summary>
    private static int[] TimeOrder(IReadOnlyList<JourneyTouch> touches)
    {
        var order = new int[touches.Count];
        var sorted = true;
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
            sorted &= i == 0 || Compare(touches[i - 1], touches[i]) <= 0;
        }

        if (!sorted)
        {
            // Ties (the same time and event id) keep their input order, as a stable sort would.
            Array.Sort(order, (a, b) => Compare(touches[a], touches[b]) is var c && c != 0 ? c : a.CompareTo(b));
        }

        return order;

        static int Compare(JourneyTouch x, JourneyTouch y) =>
            x.OccurredAt.CompareTo(y.OccurredAt) is var c && c != 0 ? c : string.CompareOrdinal(x.EventId, y.EventId);
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
                PositionBased(weights, [(0, 0.4), (m.LeadCreation, 0.4)], 0.2, 1, Math.Max(1, end));
                break;
            case AttributionModel.WShaped:
                PositionBased(weights, [(0, 0.3), (m.LeadCreation, 0.3), (m.Opportunity, 0.3)], 0.1, 0, n);
                break;
            case AttributionModel.FullPath:
                PositionBased(weights, [(0, 0.225), (m.LeadCreation, 0.225), (m.Opportunity, 0.225), (m.Close, 0.225)], 0.1, 0, n);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(model), model, null);
        }

        return weights;
    }

    /// <summary>
    /// Milestone shares to their touches (coinciding milestones add up); the rest share equally to the candidates
    /// [<paramref name="restFrom"/>, <paramref name="restTo"/>) that are no milestone; a missing milestone's share, and
    /// the rest's share when no touch is left for it, go to the milestone touches that exist in proportion to what they
    /// hold. Allocation-free: the report calls it for every conversion.
    /// </summary>
    private static void PositionBased(double[] weights, ReadOnlySpan<(int? Index, double Share)> slots, double restShare, int restFrom, int restTo)
    {
        var leftover = 0.0;
        Span<int> heldBuffer = stackalloc int[4];
        var count = 0;
        foreach (var (index, share) in slots)
        {
            if (index is { } i)
            {
                weights[i] += share;
                if (heldBuffer[..count].IndexOf(i) < 0)
                {
                    heldBuffer[count++] = i;
                }
            }
            else
            {
                leftover += share;
            }
        }

        var held = heldBuffer[..count];
        var rest = 0;
        for (var i = restFrom; i < restTo; i++)
        {
            rest += held.IndexOf(i) < 0 ? 1 : 0;
        }

        if (rest == 0)
        {
            leftover += restShare;
        }
        else
        {
            for (var i = restFrom; i < restTo; i++)
            {
                if (held.IndexOf(i) < 0)
                {
                    weights[i] += restShare / rest;
                }
            }
        }

        if (leftover > 0)
        {
            var total = 0.0;
            foreach (var i in held)
            {
                total += weights[i];
            }

            foreach (var i in held)
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
    internal sealed record Milestones(int Last, int? LeadCreation, int? Opportunity, int? Close)
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
