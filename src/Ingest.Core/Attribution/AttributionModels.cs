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
            if (next < weighed.Eligible.Length && weighed.Eligible[next] == i)
            {
                next++;
            }
            else
            {
                leftOut.Add(new LeftOutTouch(journey.Touches[i], LeftOutReason(journey.Touches[i], journey.ConversionAt, since, options)!));
            }
        }

        var credited = new List<CreditedTouch>(weighed.Eligible.Length);
        for (var k = 0; k < weighed.Eligible.Length; k++)
        {
            var shares = new Dictionary<AttributionModel, double>(distinct.Count);
            for (var m = 0; m < distinct.Count; m++)
            {
                shares[distinct[m]] = weighed.Weight(m, k);
            }

            credited.Add(new CreditedTouch(journey.Touches[weighed.Eligible[k]], weighed.RolesOf(k), shares));
        }

        return new JourneyCredit(credited, leftOut);
    }

    /// <summary>
    /// The shares alone, without the explanation <see cref="Credit"/> builds (the report's path): the eligible touches
    /// as indexes into <c>journey.Touches</c> in time order, and per model of <paramref name="models"/> (in that order)
    /// their weights, each model's summing to 1. No eligible touch: none. With <paramref name="into"/> the shares are
    /// written there (overwriting the last journey's) and nothing is allocated once its buffers are big enough.
    /// </summary>
    public static JourneyWeights Weigh(Journey journey, AttributionOptions options, IReadOnlyList<AttributionModel> models, JourneyWeights? into = null)
    {
        var weighed = into ?? new JourneyWeights();
        var touches = journey.Touches;
        var order = weighed.StartOrder(touches.Count);
        TimeOrder(touches, order);
        var since = journey.ConversionAt.AddDays(-options.LookbackDays);
        foreach (var i in order)
        {
            if (LeftOutReason(touches[i], journey.ConversionAt, since, options) is null)
            {
                weighed.AddEligible(i);
            }
        }

        if (weighed.Eligible.IsEmpty)
        {
            return weighed;
        }

        var eligibleTouches = new EligibleTouches(touches, weighed.Eligible);
        var milestones = weighed.Found(Milestones.Of(eligibleTouches, journey));
        for (var m = 0; m < models.Count; m++)
        {
            WeighModel(models[m], eligibleTouches, milestones, journey.ConversionAt, options.HalfLifeDays, weighed.StartWeights(models.Count, m));
        }

        return weighed;
    }

    /// <summary>Why a touch gets no credit, or null when it is eligible.</summary>
    private static string? LeftOutReason(JourneyTouch touch, DateTimeOffset conversionAt, DateTimeOffset since, AttributionOptions options) =>
        options.ExcludedKinds?.Contains(touch.Kind) == true ? "excluded_kind"
        : touch.OccurredAt > conversionAt ? "after_conversion"
        : touch.OccurredAt < since ? "outside_lookback"
        : null;

    /// <summary>Indexes of <paramref name="touches"/> by time, then event id (ordinal); no sort when they come in that order, as the store reads them.</summary>
    private static void TimeOrder(IReadOnlyList<JourneyTouch> touches, Span<int> order)
    {
        var sorted = true;
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
            sorted &= i == 0 || Compare(touches[i - 1], touches[i]) <= 0;
        }

        if (!sorted)
        {
            // Ties (the same time and event id) keep their input order, as a stable sort would.
            order.Sort((a, b) => Compare(touches[a], touches[b]) is var c && c != 0 ? c : a.CompareTo(b));
        }

        static int Compare(JourneyTouch x, JourneyTouch y) =>
            x.OccurredAt.CompareTo(y.OccurredAt) is var c && c != 0 ? c : string.CompareOrdinal(x.EventId, y.EventId);
    }

    /// <summary>The eligible touches in time order, as a view over the journey's touches (no copy).</summary>
    internal readonly ref struct EligibleTouches(IReadOnlyList<JourneyTouch> touches, ReadOnlySpan<int> eligible)
    {
        private readonly ReadOnlySpan<int> _eligible = eligible;

        public int Count => _eligible.Length;

        public JourneyTouch this[int k] => touches[_eligible[k]];
    }

    private static void WeighModel(AttributionModel model, EligibleTouches touches, Milestones m, DateTimeOffset conversionAt, double halfLifeDays, Span<double> weights)
    {
        var n = touches.Count;
        switch (model)
        {
            case AttributionModel.First:
                weights[0] = 1;
                break;
            case AttributionModel.Last:
                weights[n - 1] = 1;
                break;
            case AttributionModel.LastNonDirect:
                var lastNonDirect = n - 1;
                while (lastNonDirect >= 0 && touches[lastNonDirect].Channel is Channels.B2b.Direct or Channels.Ga4.Direct)
                {
                    lastNonDirect--;
                }

                weights[lastNonDirect >= 0 ? lastNonDirect : n - 1] = 1;
                break;
            case AttributionModel.Linear:
                weights.Fill(1.0 / n);
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
    }

    /// <summary>
    /// Milestone shares to their touches (coinciding milestones add up); the rest share equally to the candidates
    /// [<paramref name="restFrom"/>, <paramref name="restTo"/>) that are no milestone; a missing milestone's share, and
    /// the rest's share when no touch is left for it, go to the milestone touches that exist in proportion to what they
    /// hold. Allocation-free: the report calls it for every conversion.
    /// </summary>
    private static void PositionBased(Span<double> weights, ReadOnlySpan<(int? Index, double Share)> slots, double restShare, int restFrom, int restTo)
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

    private static void Normalize(Span<double> weights)
    {
        var sum = 0.0;
        foreach (var weight in weights)
        {
            sum += weight;
        }

        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] /= sum;
        }
    }

    /// <summary>Where the milestones fall among the eligible touches (indexes; null when not among them).</summary>
    internal readonly record struct Milestones(int Last, int? LeadCreation, int? Opportunity, int? Close)
    {
        public static Milestones Of(EligibleTouches eligible, Journey journey)
        {
            int? leadCreation = null;
            for (var k = 0; k < eligible.Count && leadCreation is null; k++)
            {
                if (eligible[k].LeadCreation || (journey.LeadCreatedEventId is { } id && eligible[k].EventId == id))
                {
                    leadCreation = k;
                }
            }

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

        private static int? LastAtOrBefore(EligibleTouches eligible, DateTimeOffset? at)
        {
            if (at is not { } time)
            {
                return null;
            }

            for (var k = eligible.Count - 1; k >= 0; k--)
            {
                if (eligible[k].OccurredAt <= time)
                {
                    return k;
                }
            }

            return null;
        }
    }
}
