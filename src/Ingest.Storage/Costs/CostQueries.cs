using Dapper;
using Ingest.Storage.Reports;
using Npgsql;

namespace Ingest.Storage.Costs;

/// <summary>What spend is grouped by: the same governed fields touches are grouped by in the reports.</summary>
public enum SpendGrouping
{
    Channel,
    Ga4Channel,
    Source,
    Medium,
    Campaign,
}

/// <summary>Spend in a currency no rate converts to the report currency: reported beside the figures, never guessed.</summary>
public sealed record UnconvertedCost(string Currency, decimal Amount);

/// <summary>Spend per group in the report currency, its total, and what could not be converted.</summary>
public sealed record Spend(IReadOnlyDictionary<string, decimal> Groups, decimal Total, IReadOnlyList<UnconvertedCost> Unconverted);

/// <summary>Reads daily spend for the reports (funnel now, attribution later).</summary>
public sealed class CostQueries(NpgsqlDataSource dataSource)
{
    /// <summary>The group of spend without a campaign (and of any null group), as the reports name leads without one.</summary>
    public const string NoGroup = "(none)";

    /// <summary>
    /// Spend of the days that start in [<paramref name="from"/>, <paramref name="to"/>) (a day counts whole, by its 00:00 UTC),
    /// per group, converted to <see cref="ReportSettings.Currency"/> with <see cref="ReportSettings.Rates"/>; amounts in a
    /// currency without a rate are summed per currency in <see cref="Spend.Unconverted"/> and left out of the groups.
    /// <paramref name="ga4"/> makes <see cref="SpendGrouping.Channel"/> the GA4 channel, as <c>taxonomy=ga4</c> does.
    /// </summary>
    public async Task<Spend> SpendAsync(DateTimeOffset from, DateTimeOffset to, SpendGrouping grouping, ReportSettings currency, CancellationToken cancellationToken,
        bool ga4 = false)
    {
        var column = grouping switch
        {
            SpendGrouping.Channel => ga4 ? "ga4_channel" : "channel",
            SpendGrouping.Ga4Channel => "ga4_channel",
            SpendGrouping.Source => "source",
            SpendGrouping.Medium => "medium",
            _ => "nullif(campaign, '')",
        };
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string? Group, string Currency, decimal Amount)>(new CommandDefinition($"""
            select {column}, currency, sum(amount) from costs where day >= @fromDay::date and day < @toDay::date group by 1, 2
            """, new { fromDay = FirstDayFrom(from).ToString("O"), toDay = FirstDayFrom(to).ToString("O") }, cancellationToken: cancellationToken));

        var groups = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var unconverted = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var (group, code, amount) in rows)
        {
            if (currency.Convert(amount, code) is { } converted)
            {
                groups[group ?? NoGroup] = groups.GetValueOrDefault(group ?? NoGroup) + converted;
            }
            else
            {
                unconverted[code] = unconverted.GetValueOrDefault(code) + amount;
            }
        }

        return new Spend(groups.ToDictionary(static g => g.Key, static g => Math.Round(g.Value, 2), StringComparer.Ordinal), Math.Round(groups.Values.Sum(), 2),
            unconverted.OrderBy(static u => u.Key, StringComparer.Ordinal).Select(static u => new UnconvertedCost(u.Key, Math.Round(u.Value, 2))).ToList());
    }

    // The first day whose 00:00 UTC is at or after the instant.
    private static DateOnly FirstDayFrom(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        var day = DateOnly.FromDateTime(utc);
        return utc.TimeOfDay == TimeSpan.Zero ? day : day.AddDays(1);
    }
}
