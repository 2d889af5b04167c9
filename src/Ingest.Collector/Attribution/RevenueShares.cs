using Ingest.Storage.Attribution;
using Ingest.Storage.Reports;

namespace Ingest.Collector.Attribution;

/// <summary>
/// A converted lead's revenue: each won deal's amount in <paramref name="currency"/> split equally among the deal's
/// leads, so a deal counts once across them. A deal no rate converts is credited to nobody and counted once in
/// <see cref="UnconvertedDeals"/>.
/// </summary>
public sealed class RevenueShares(ReportSettings rates, string currency)
{
    private readonly HashSet<string> _unconverted = new(StringComparer.Ordinal);

    public long UnconvertedDeals => _unconverted.Count;

    /// <summary>The sum of the lead's shares of its won deals.</summary>
    public double ValueOf(IReadOnlyList<JourneyDeal> wonDeals)
    {
        var value = 0m;
        foreach (var deal in wonDeals)
        {
            if (rates.Convert(deal.Amount, deal.Currency, currency) is { } amount)
            {
                value += amount / deal.Leads;
            }
            else
            {
                _unconverted.Add(deal.DealId);
            }
        }

        return (double)value;
    }
}
