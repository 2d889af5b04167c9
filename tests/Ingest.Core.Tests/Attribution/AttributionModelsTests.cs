using Ingest.Core.Attribution;

namespace Ingest.Core.Tests.Attribution;

/// <summary>Every model on hand-built journeys; each expected share below was worked out by hand (docs/attribution.md).</summary>
public sealed class AttributionModelsTests
{
    private static readonly DateTimeOffset Day0 = new(2026, 9, 1, 12, 0, 0, TimeSpan.Zero);

    // T1 day 0 paid search · T2 day 10 direct · T3 day 20 email (lead creation) · T4 day 25 direct · T5 day 30 organic.
    private static readonly JourneyTouch[] FiveTouches =
    [
        new("t1", Day0, "paid_search", "visit"),
        new("t2", Day0.AddDays(10), "direct", "visit"),
        new("t3", Day0.AddDays(20), "email", "form"),
        new("t4", Day0.AddDays(25), "direct", "visit"),
        new("t5", Day0.AddDays(30), "organic_search", "call"),
    ];

    private static Dictionary<string, double> Shares(JourneyCredit credit, AttributionModel model) =>
        credit.Credited.ToDictionary(static c => c.Touch.EventId, c => c.Weights[model]);

    private static void AssertShares(JourneyCredit credit, AttributionModel model, params (string EventId, double Share)[] expected)
    {
        var shares = Shares(credit, model);
        foreach (var (id, share) in expected)
        {
            Assert.True(Math.Abs(shares[id] - share) < 1e-9, $"{model}: {id} got {shares[id]}, expected {share}");
        }

        foreach (var (id, share) in shares.Where(s => expected.All(e => e.EventId != s.Key)))
        {
            Assert.True(share == 0, $"{model}: {id} got {share}, expected 0");
        }

        Assert.True(Math.Abs(shares.Values.Sum() - 1) < 1e-9, $"{model}: shares add up to {shares.Values.Sum()}");
    }

    [Fact]
    public void FiveTouchJourney_AllMilestones_EveryModel()
    {
        // Customer on day 30 (T5); the opportunity on day 26, so its touch is T4 (the last at or before it).
        var journey = new Journey(FiveTouches, Day0.AddDays(30), "t3", OpportunityAt: Day0.AddDays(26), CustomerAt: Day0.AddDays(30));
        var credit = AttributionModels.Credit(journey, AttributionOptions.Default, AttributionModels.All);

        Assert.Equal(["t1", "t2", "t3", "t4", "t5"], credit.Credited.Select(c => c.Touch.EventId));
        Assert.Empty(credit.LeftOut);
        Assert.Equal(TouchRoles.First, credit.Credited[0].Roles);
        Assert.Equal(TouchRoles.LeadCreation, credit.Credited[2].Roles);
        Assert.Equal(TouchRoles.OpportunityCreation, credit.Credited[3].Roles);
        Assert.Equal(TouchRoles.Close | TouchRoles.Last, credit.Credited[4].Roles);

        AssertShares(credit, AttributionModel.First, ("t1", 1));
        AssertShares(credit, AttributionModel.Last, ("t5", 1));
        AssertShares(credit, AttributionModel.LastNonDirect, ("t5", 1));
        AssertShares(credit, AttributionModel.Linear, ("t1", 0.2), ("t2", 0.2), ("t3", 0.2), ("t4", 0.2), ("t5", 0.2));
        // 2^(-Δt/7) for Δt = 30, 20, 10, 5, 0 days: 0.051271, 0.138011, 0.371499, 0.609507, 1; their sum 2.170288.
        AssertShares(credit, AttributionModel.TimeDecay, ("t1", 0.0236240400), ("t2", 0.0635912000), ("t3", 0.1711748160), ("t4", 0.2808415080), ("t5", 0.4607684360));
        // 40 % first, 40 % lead creation, 20 % to T2 (the only touch between them); after lead creation nothing.
        AssertShares(credit, AttributionModel.UShaped, ("t1", 0.4), ("t2", 0.2), ("t3", 0.4));
        // 30 % each to first, lead creation and opportunity creation; 10 % shared by T2 and T5.
        AssertShares(credit, AttributionModel.WShaped, ("t1", 0.3), ("t2", 0.05), ("t3", 0.3), ("t4", 0.3), ("t5", 0.05));
        // 22.5 % each to the four milestones; 10 % to T2, the only other touch.
        AssertShares(credit, AttributionModel.FullPath, ("t1", 0.225), ("t2", 0.1), ("t3", 0.225), ("t4", 0.225), ("t5", 0.225));
    }

    [Fact]
    public void SingleTouchJourney_EveryModelGivesItAll()
    {
        var journey = new Journey([FiveTouches[0]], Day0, "t1", OpportunityAt: Day0, CustomerAt: Day0);
        var credit = AttributionModels.Credit(journey, AttributionOptions.Default, AttributionModels.All);
        foreach (var model in AttributionModels.All)
        {
            AssertShares(credit, model, ("t1", 1));
        }

        Assert.Equal(TouchRoles.First | TouchRoles.LeadCreation | TouchRoles.OpportunityCreation | TouchRoles.Close | TouchRoles.Last, credit.Credited[0].Roles);
    }

    [Fact]
    public void FirstTouchIsAlsoTheLeadCreation_CoincidingMilestonesSumTheirShares()
    {
        var journey = new Journey(FiveTouches, Day0.AddDays(30), "t1", OpportunityAt: Day0.AddDays(26), CustomerAt: Day0.AddDays(30));
        var credit = AttributionModels.Credit(journey, AttributionOptions.Default, AttributionModels.All);

        // U: 40 + 40 on T1; nothing lies between first and lead creation, so the 20 % goes to T1 as well.
        AssertShares(credit, AttributionModel.UShaped, ("t1", 1));
        // W: 60 % on T1, 30 % on T4, 10 % shared by T2, T3 and T5.
        AssertShares(credit, AttributionModel.WShaped, ("t1", 0.6), ("t2", 0.1 / 3), ("t3", 0.1 / 3), ("t4", 0.3), ("t5", 0.1 / 3));
        // Full path: 45 % on T1, 22.5 % each on T4 and T5, 10 % shared by T2 and T3.
        AssertShares(credit, AttributionModel.FullPath, ("t1", 0.45), ("t2", 0.05), ("t3", 0.05), ("t4", 0.225), ("t5", 0.225));
    }

    [Fact]
    public void MissingOpportunity_ItsShareGoesToTheMilestonesThatExist_InProportion()
    {
        // An SQL conversion on day 22: T4 and T5 come after it; no opportunity, no customer yet.
        var journey = new Journey(FiveTouches, Day0.AddDays(22), "t3");
        var credit = AttributionModels.Credit(journey, AttributionOptions.Default, AttributionModels.All);

        Assert.Equal(["t4", "t5"], credit.LeftOut.Select(l => l.Touch.EventId));
        Assert.All(credit.LeftOut, l => Assert.Equal("after_conversion", l.Reason));
        // W: 30 first + 30 lead creation; the missing 30 split 15/15 between them: 45, 45; T2 (the rest) 10.
        AssertShares(credit, AttributionModel.WShaped, ("t1", 0.45), ("t2", 0.1), ("t3", 0.45));
        // Full path: 22.5 + 22.5, the missing 45 split equally: 45, 45; T2 10.
        AssertShares(credit, AttributionModel.FullPath, ("t1", 0.45), ("t2", 0.1), ("t3", 0.45));
        AssertShares(credit, AttributionModel.Last, ("t3", 1));
        AssertShares(credit, AttributionModel.LastNonDirect, ("t3", 1));
    }

    [Fact]
    public void MilestonesAfterTheConversion_AreNotReachedYet_TheirRolesAreMissing()
    {
        // The same sql conversion on day 22, now with the lead's later opportunity (day 26) and customer (day 30) known:
        // both come after the conversion, so no touch holds their roles (the last eligible touch, T3, would otherwise
        // pass for "the last touch at or before day 26") and the shares are those of the missing opportunity above.
        var journey = new Journey(FiveTouches, Day0.AddDays(22), "t3", OpportunityAt: Day0.AddDays(26), CustomerAt: Day0.AddDays(30));
        var credit = AttributionModels.Credit(journey, AttributionOptions.Default, AttributionModels.All);

        Assert.Equal([TouchRoles.First, TouchRoles.None, TouchRoles.LeadCreation | TouchRoles.Last], credit.Credited.Select(c => c.Roles));
        AssertShares(credit, AttributionModel.WShaped, ("t1", 0.45), ("t2", 0.1), ("t3", 0.45));
        AssertShares(credit, AttributionModel.FullPath, ("t1", 0.45), ("t2", 0.1), ("t3", 0.45));
    }

    [Fact]
    public void OpportunityConversion_ItsOwnMilestoneCounts_TheLaterCustomerDoesNot()
    {
        // An opportunity conversion on day 26: the opportunity milestone is the conversion itself (reached), its touch T4
        // (the last at or before day 26); the customer milestone (day 30) is after it, so there is no close touch.
        var journey = new Journey(FiveTouches, Day0.AddDays(26), "t3", OpportunityAt: Day0.AddDays(26), CustomerAt: Day0.AddDays(30));
        var credit = AttributionModels.Credit(journey, AttributionOptions.Default, AttributionModels.All);

        Assert.Equal(["t5"], credit.LeftOut.Select(l => l.Touch.EventId));
        Assert.Equal(TouchRoles.OpportunityCreation | TouchRoles.Last, credit.Credited[3].Roles);
        Assert.DoesNotContain(credit.Credited, c => c.Roles.HasFlag(TouchRoles.Close));
        // W: 30 % each to T1, T3, T4; T2, the only other touch, 10 %.
        AssertShares(credit, AttributionModel.WShaped, ("t1", 0.3), ("t2", 0.1), ("t3", 0.3), ("t4", 0.3));
        // Full path: 22.5 % each to T1, T3, T4, the missing close's 22.5 % in thirds (7.5 each): 30 % each; T2 10 %.
        AssertShares(credit, AttributionModel.FullPath, ("t1", 0.3), ("t2", 0.1), ("t3", 0.3), ("t4", 0.3));
    }

    [Fact]
    public void LookbackCut_TouchesBeforeTheWindowAreLeftOut_TheFirstEligibleIsFirst()
    {
        var journey = new Journey(FiveTouches, Day0.AddDays(30), "t3", CustomerAt: Day0.AddDays(30));
        var credit = AttributionModels.Credit(journey, new AttributionOptions(LookbackDays: 14), AttributionModels.All);

        Assert.Equal([("t1", "outside_lookback"), ("t2", "outside_lookback")], credit.LeftOut.Select(l => (l.Touch.EventId, l.Reason)));
        AssertShares(credit, AttributionModel.First, ("t3", 1));
        // T3 is first and lead creation: U gives it all (nothing between).
        AssertShares(credit, AttributionModel.UShaped, ("t3", 1));
        // Full path: T3 45 (first + lead creation), T5 22.5 (close), missing opportunity's 22.5 in proportion 45:22.5
        // (T3 +15, T5 +7.5), T4 the rest 10: T3 60, T4 10, T5 30.
        AssertShares(credit, AttributionModel.FullPath, ("t3", 0.6), ("t4", 0.1), ("t5", 0.3));
    }

    [Fact]
    public void LastNonDirect_OnlyDirectTouches_FallsBackToTheLastTouch()
    {
        JourneyTouch[] direct = [new("d1", Day0, "direct", "visit"), new("d2", Day0.AddDays(1), "direct", "form")];
        var credit = AttributionModels.Credit(new Journey(direct, Day0.AddDays(2), "d2"), AttributionOptions.Default, [AttributionModel.LastNonDirect]);
        AssertShares(credit, AttributionModel.LastNonDirect, ("d2", 1));

        // With a non-direct touch earlier, it takes the credit over the later direct ones.
        var credit2 = AttributionModels.Credit(new Journey(FiveTouches, Day0.AddDays(27), "t3"), AttributionOptions.Default, [AttributionModel.LastNonDirect]);
        AssertShares(credit2, AttributionModel.LastNonDirect, ("t3", 1));
    }

    [Fact]
    public void ExcludedKinds_VisitsLeftOut_WithTheirReason()
    {
        var journey = new Journey(FiveTouches, Day0.AddDays(30), "t3");
        var credit = AttributionModels.Credit(journey, new AttributionOptions(ExcludedKinds: new HashSet<string> { "visit" }), [AttributionModel.Linear]);

        Assert.Equal([("t1", "excluded_kind"), ("t2", "excluded_kind"), ("t4", "excluded_kind")], credit.LeftOut.Select(l => (l.Touch.EventId, l.Reason)));
        AssertShares(credit, AttributionModel.Linear, ("t3", 0.5), ("t5", 0.5));
    }

    [Fact]
    public void NoEligibleTouch_NothingCredited_EveryTouchLeftOutWithItsReason()
    {
        var credit = AttributionModels.Credit(new Journey(FiveTouches, Day0.AddDays(-1)), AttributionOptions.Default, AttributionModels.All);
        Assert.Empty(credit.Credited);
        Assert.Equal(5, credit.LeftOut.Count);
    }
}
