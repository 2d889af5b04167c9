using Ingest.Collector.Attribution;
using Ingest.Storage.Attribution;
using Ingest.Storage.Reports;

namespace Ingest.Collector.Tests.Attribution;

/// <summary>A lead's revenue: its shares of its won deals, converted through Reports:Rates (hand-computed).</summary>
public sealed class RevenueSharesTests
{
    private static readonly ReportSettings Rates = new() { Currency = "USD", Rates = new(StringComparer.OrdinalIgnoreCase) { ["EUR"] = 1.1m } };

    private static readonly JourneyDeal Shared = new("D-PQ", 1200, "USD", Leads: 2);
    private static readonly JourneyDeal InEuro = new("D-Q", 300, "EUR", Leads: 1);
    private static readonly JourneyDeal InPounds = new("D-GBP", 100, "GBP", Leads: 2);

    private static JourneyDeal[] WonDeals(params JourneyDeal[] deals) => deals;

    [Fact]
    public void ValueOf_SplitsEachDealAmongItsLeads_AndConvertsThroughTheRates()
    {
        var shares = new RevenueShares(Rates, "USD");
        // Half of 1,200 USD; half of 1,200 plus 300 EUR × 1.1.
        Assert.Equal(600, shares.ValueOf(WonDeals(Shared)), 9);
        Assert.Equal(930, shares.ValueOf(WonDeals(Shared, InEuro)), 9);
        Assert.Equal(0, shares.UnconvertedDeals);
    }

    [Fact]
    public void ValueOf_InAnotherCurrency_GoesThroughTheReportCurrency()
    {
        var shares = new RevenueShares(Rates, "EUR");
        // 1,200 USD ÷ 1.1 ÷ 2 = 545.454545…; 300 EUR stays 300.
        Assert.Equal(545.454545454, shares.ValueOf(WonDeals(Shared)), 6);
        Assert.Equal(300, shares.ValueOf(WonDeals(InEuro)), 9);
    }

    [Fact]
    public void ValueOf_ADealWithoutARate_IsNotCredited_AndCountedOnceAcrossItsLeads()
    {
        var shares = new RevenueShares(Rates, "USD");
        Assert.Equal(600, shares.ValueOf(WonDeals(Shared, InPounds)), 9);
        Assert.Equal(0, shares.ValueOf(WonDeals(InPounds)));
        Assert.Equal(1, shares.UnconvertedDeals);
        Assert.False(Rates.CanConvertInto("GBP"));
        Assert.True(Rates.CanConvertInto("eur"));
    }
}
