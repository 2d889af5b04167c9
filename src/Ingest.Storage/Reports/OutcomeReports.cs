using Dapper;
using Ingest.Core.Outcomes;
using Ingest.Storage.Costs;
using Ingest.Storage.Leads;
using Npgsql;

namespace Ingest.Storage.Reports;

/// <summary>
/// The funnel and speed-to-lead reports over the leads created in a period (a lead's creation time is its lead-creation
/// touch's <c>occurred_at</c>; every duration is measured from it, in event time). The window's leads and their
/// outcomes are read in one repeatable-read snapshot and aggregated here: milestones, deal states and owners are derived
/// from outcome rows (docs/decisions.md), which is simpler to get right in code than in one statement.
/// </summary>
public sealed class OutcomeReports(NpgsqlDataSource dataSource, CostQueries costs)
{
    private const string Unknown = CostQueries.NoGroup;
    private const string Total = "total";

    private sealed record LeadFacts(Guid LeadId, DateTimeOffset CreatedAt, string Group, string Kind, string Channel, bool Violations, bool Consent, bool SelfReported)
    {
        public Dictionary<string, DateTimeOffset> Milestones { get; } = [];
        public DateTimeOffset? FirstResponse { get; set; }
        public string? Owner { get; set; }

        /// <summary>Whether the lead reached <paramref name="stage"/> or any stage after it on the ladder.</summary>
        public bool Reached(string stage)
        {
            for (var i = IndexOf(stage); i < Stages.Ladder.Count; i++)
            {
                if (Milestones.ContainsKey(Stages.Ladder[i]))
                {
                    return true;
                }
            }

            return false;
        }

        private static int IndexOf(string stage)
        {
            for (var i = 0; i < Stages.Ladder.Count; i++)
            {
                if (Stages.Ladder[i] == stage)
                {
                    return i;
                }
            }

            return Stages.Ladder.Count;
        }
    }

    private sealed record DealFacts(Guid PrimaryLeadId, string Status, decimal Amount, string Currency);

    /// <summary>The funnel of the leads created in [from, to), grouped, optionally per week or month of creation.</summary>
    public async Task<FunnelReport> FunnelAsync(DateTimeOffset from, DateTimeOffset to, ReportTouch touch, FunnelGrouping groupBy, bool ga4, string? interval,
        ReportSettings currency, CancellationToken cancellationToken)
    {
        var column = groupBy switch
        {
            FunnelGrouping.Channel => ga4 ? "t.ga4_channel" : "t.channel",
            FunnelGrouping.Ga4Channel => "t.ga4_channel",
            FunnelGrouping.Source => "t.source",
            FunnelGrouping.Medium => "t.medium",
            FunnelGrouping.Campaign => "t.campaign",
            FunnelGrouping.SourceDetail => "t.source_detail",
            FunnelGrouping.Method => "t.method",
            _ => ga4 ? "t.ga4_channel" : "t.channel", // owner: grouped below, from the outcomes
        };
        var (leads, deals) = await ReadAsync(from, to, touch, column, ga4, withDeals: true, cancellationToken);

        long unconverted = 0;
        var won = new Dictionary<Guid, List<decimal>>();
        var closed = new Dictionary<Guid, int>();
        foreach (var deal in deals)
        {
            if (deal.Status is not ("won" or "lost"))
            {
                continue;
            }

            closed[deal.PrimaryLeadId] = closed.GetValueOrDefault(deal.PrimaryLeadId) + 1;
            if (deal.Status == "won")
            {
                if (currency.Convert(deal.Amount, deal.Currency) is { } amount)
                {
                    (won.TryGetValue(deal.PrimaryLeadId, out var list) ? list : won[deal.PrimaryLeadId] = []).Add(amount);
                }
                else
                {
                    unconverted++;
                }
            }
        }

        // Spend matches a group by the same governed field; the owner grouping has none (only its totals carry a cost).
        SpendGrouping? spendGrouping = groupBy switch
        {
            FunnelGrouping.Channel => SpendGrouping.Channel,
            FunnelGrouping.Ga4Channel => SpendGrouping.Ga4Channel,
            FunnelGrouping.Source => SpendGrouping.Source,
            FunnelGrouping.Medium => SpendGrouping.Medium,
            FunnelGrouping.Campaign => SpendGrouping.Campaign,
            _ => null,
        };
        var spend = await costs.SpendAsync(from, to, spendGrouping ?? SpendGrouping.Channel, currency, cancellationToken, ga4);

        FunnelRow Row(string group, IReadOnlyCollection<LeadFacts> members, decimal? cost)
        {
            long Count(string stage) => members.Count(l => l.Reached(stage));
            var (n, mql, sql, opp, cust) = (members.Count, Count(Stages.Mql), Count(Stages.Sql), Count(Stages.Opportunity), Count(Stages.Customer));
            var amounts = members.SelectMany(l => won.GetValueOrDefault(l.LeadId) ?? []).ToList();
            var closedCount = members.Sum(l => closed.GetValueOrDefault(l.LeadId));
            var revenue = amounts.Sum();
            decimal? Per(long count) => cost is { } c && count > 0 ? Math.Round(c / count, 2) : null;
            var row = new FunnelRow(group, n, mql, sql, opp, cust,
                new FunnelConversion(Rate(mql, n), Rate(sql, mql), Rate(opp, sql), Rate(cust, opp), Rate(cust, n)),
                amounts.Count, Math.Round(revenue, 2), amounts.Count == 0 ? 0 : Math.Round(revenue / amounts.Count, 2), Rate(amounts.Count, closedCount),
                MedianDays(members, static l => l.CreatedAt, Stages.Customer),
                new MilestoneDays(
                    MedianDays(members, static l => l.CreatedAt, Stages.Mql),
                    MedianDays(members, Stages.Mql, Stages.Sql),
                    MedianDays(members, Stages.Sql, Stages.Opportunity),
                    MedianDays(members, Stages.Opportunity, Stages.Customer)));
            return cost is not { } spentHere ? row
                : row with { Cost = spentHere, CostPerLead = Per(n), CostPerSql = Per(sql), CostPerCustomer = Per(cust), Roas = spentHere == 0 ? null : Math.Round((double)(revenue / spentHere), 4) };
        }

        // A group with spend but no lead created in the period still shows, with its cost and no leads.
        (IReadOnlyList<FunnelRow>, FunnelRow) Rows(IReadOnlyCollection<LeadFacts> members, Spend spent)
        {
            var byGroup = members.GroupBy(l => groupBy == FunnelGrouping.Owner ? l.Owner ?? Unknown : l.Group).ToDictionary(static g => g.Key, static g => (IReadOnlyCollection<LeadFacts>)g.ToList());
            foreach (var group in spent.Groups.Keys.Where(g => spendGrouping is not null && !byGroup.ContainsKey(g)))
            {
                byGroup[group] = [];
            }

            return (byGroup.Select(g => Row(g.Key, g.Value, spendGrouping is not null && spent.Groups.TryGetValue(g.Key, out var cost) ? cost : null))
                    .OrderByDescending(static r => r.Leads).ThenBy(static r => r.Group, StringComparer.Ordinal).ToList(),
                Row(Total, members, spent.Groups.Count == 0 ? null : spent.Total));
        }

        var (groups, totals) = Rows(leads, spend);
        List<FunnelPeriod>? periods = null;
        if (interval is not null)
        {
            periods = [];
            foreach (var period in leads.GroupBy(l => PeriodStart(l.CreatedAt, interval)).OrderBy(static g => g.Key))
            {
                var periodEnd = interval == "week" ? period.Key.AddDays(7) : period.Key.AddMonths(1);
                var periodSpend = await costs.SpendAsync(period.Key < from ? from : period.Key, periodEnd > to ? to : periodEnd, spendGrouping ?? SpendGrouping.Channel,
                    currency, cancellationToken, ga4);
                var (periodGroups, periodTotals) = Rows(period.ToList(), periodSpend);
                periods.Add(new FunnelPeriod(period.Key, periodGroups, periodTotals));
            }
        }

        var touchName = touch switch { ReportTouch.First => "first", ReportTouch.Latest => "latest", _ => "lead_created" };
        var groupName = groupBy switch
        {
            FunnelGrouping.Channel => "channel", FunnelGrouping.Ga4Channel => "ga4_channel", FunnelGrouping.Source => "source", FunnelGrouping.Medium => "medium",
            FunnelGrouping.Campaign => "campaign", FunnelGrouping.SourceDetail => "source_detail", FunnelGrouping.Method => "method", _ => "owner",
        };
        return new FunnelReport(from, to, touchName, groupName, ga4 ? "ga4" : "b2b", currency.Currency, interval, groups, totals, periods, unconverted,
            CoverageOf(leads, ga4, currency.Coverage), spend.Unconverted);
    }

    /// <summary>Minutes from lead creation to the first response for the leads created in [from, to), grouped.</summary>
    public async Task<SpeedToLeadReport> SpeedToLeadAsync(DateTimeOffset from, DateTimeOffset to, SpeedGrouping groupBy, bool ga4, CoverageThresholds thresholds,
        CancellationToken cancellationToken, Ingest.Core.Time.BusinessHours? hours = null)
    {
        var (leads, _) = await ReadAsync(from, to, ReportTouch.LeadCreated, ga4 ? "t.ga4_channel" : "t.channel", ga4, withDeals: false, cancellationToken);
        string GroupOf(LeadFacts l) => groupBy switch
        {
            SpeedGrouping.Channel => l.Group,
            SpeedGrouping.Kind => l.Kind,
            _ => l.Owner ?? Unknown,
        };

        var groups = leads.GroupBy(GroupOf).Select(g => SpeedRowOf(g.Key, g.ToList(), hours))
            .OrderByDescending(static r => r.Leads).ThenBy(static r => r.Group, StringComparer.Ordinal).ToList();
        return new SpeedToLeadReport(from, to, groupBy.ToString().ToLowerInvariant(), groups, SpeedRowOf(Total, leads, hours), CoverageOf(leads, ga4, thresholds));
    }

    /// <summary>
    /// First-touch channel × self-reported answer for the leads created in [from, to). A lead's answer is the latest
    /// self-reported source among its touches, normalized by <paramref name="normalize"/> (the governance rules' aliases).
    /// </summary>
    public async Task<SelfReportedReport> SelfReportedAsync(DateTimeOffset from, DateTimeOffset to, bool ga4, Func<string?, string?> normalize, CoverageThresholds thresholds,
        CancellationToken cancellationToken)
    {
        var (leads, _) = await ReadAsync(from, to, ReportTouch.First, ga4 ? "t.ga4_channel" : "t.channel", ga4, withDeals: false, cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var answers = (await connection.QueryAsync<(Guid LeadId, string Answer)>(new CommandDefinition("""
            select distinct on (s.lead_id) s.lead_id, s.record->>'self_reported_source' from touches s
            where s.lead_id = any(@ids) and s.record->>'self_reported_source' is not null
            order by s.lead_id, s.occurred_at desc, s.event_id desc
            """, new { ids = leads.Select(static l => l.LeadId).ToArray() }, cancellationToken: cancellationToken)))
            .Select(a => (a.LeadId, Answer: normalize(a.Answer))).Where(static a => a.Answer is not null).ToDictionary(static a => a.LeadId, static a => a.Answer!);

        static List<SelfReportedCell> Cells(IEnumerable<string> given) => given.GroupBy(static a => a)
            .Select(static g => new SelfReportedCell(g.Key, g.LongCount())).OrderByDescending(static c => c.Leads).ThenBy(static c => c.Answer, StringComparer.Ordinal).ToList();

        var rows = leads.GroupBy(static l => l.Group).Select(g =>
        {
            var said = g.Where(l => answers.ContainsKey(l.LeadId)).Select(l => answers[l.LeadId]).ToList();
            return new SelfReportedRow(g.Key, g.LongCount(), said.Count, Cells(said));
        }).OrderByDescending(static r => r.Leads).ThenBy(static r => r.Channel, StringComparer.Ordinal).ToList();
        return new SelfReportedReport(from, to, ga4 ? "ga4" : "b2b", leads.Count, answers.Count, rows, Cells(answers.Values), CoverageOf(leads, ga4, thresholds));
    }

    private static SpeedRow SpeedRowOf(string group, IReadOnlyCollection<LeadFacts> members, Ingest.Core.Time.BusinessHours? hours)
    {
        // A response stamped before the lead-creation touch (clock skew, imported history) counts as immediate; with
        // business hours the clock runs only inside them.
        double? MinutesOf(LeadFacts l) => l.FirstResponse is not { } at ? null
            : hours is { Enabled: true } ? hours.WorkingMinutes(l.CreatedAt, at)
            : Math.Max(0, (at - l.CreatedAt).TotalMinutes);
        var minutes = members.Select(MinutesOf).OfType<double>().Order().ToList();
        var n = members.Count;
        double Share(Func<double?, bool> test) => Rate(members.Count(l => test(MinutesOf(l))), n);
        string BucketOf(double? m) => m switch { null => "never", <= 5 => "5m", <= 60 => "1h", <= 1440 => "24h", _ => "later" };
        var buckets = new[] { "5m", "1h", "24h", "later", "never" }.Select(b =>
        {
            var inBucket = members.Where(l => BucketOf(MinutesOf(l)) == b).ToList();
            return new ResponseBucket(b, inBucket.Count, Rate(inBucket.Count(static l => l.Reached(Stages.Sql)), inBucket.Count),
                Rate(inBucket.Count(static l => l.Reached(Stages.Customer)), inBucket.Count));
        }).ToList();
        return new SpeedRow(group, n, minutes.Count, Median(minutes) is { } median ? Math.Round(median, 2) : null,
            minutes.Count == 0 ? null : Math.Round(minutes[(int)Math.Ceiling(0.9 * minutes.Count) - 1], 2),
            Share(static m => m <= 5), Share(static m => m <= 60), Share(static m => m <= 1440), Share(static m => m is null), buckets);
    }

    private async Task<(List<LeadFacts> Leads, List<DealFacts> Deals)> ReadAsync(DateTimeOffset from, DateTimeOffset to, ReportTouch touch, string column, bool ga4, bool withDeals,
        CancellationToken cancellationToken)
    {
        var prefix = touch switch { ReportTouch.First => "first", ReportTouch.Latest => "latest", _ => "created" };
        const string Window = "l.merged_into is null and l.created_event_id is not null and l.created_occurred_at >= @from and l.created_occurred_at < @to";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var results = await connection.QueryMultipleAsync(new CommandDefinition($"""
            select l.lead_id, l.created_occurred_at, {column} as grp, c.kind, {(ga4 ? "t.ga4_channel" : "t.channel")} as channel, t.violation_count > 0 as violations,
                   exists (select 1 from jsonb_each(coalesce(c.record->'consent', jsonb_build_object())) e where e.value = 'true'::jsonb) as consent,
                   exists (select 1 from touches s where s.lead_id = l.lead_id and s.record->>'self_reported_source' is not null) as self_reported
            from leads l join touches t on t.event_id = l.{prefix}_event_id join touches c on c.event_id = l.created_event_id
            where {Window};
            select o.lead_id, o.stage, min(o.occurred_at) from outcomes o join leads l on l.lead_id = o.lead_id
            where {Window} and o.type = 'stage' group by 1, 2;
            select o.lead_id, min(o.occurred_at) from outcomes o join leads l on l.lead_id = o.lead_id
            where {Window} and o.type = 'response' group by 1;
            select distinct on (o.lead_id) o.lead_id, o.owner from outcomes o join leads l on l.lead_id = o.lead_id
            where {Window} and o.owner is not null order by o.lead_id, o.occurred_at desc, o.event_id desc;
            {(withDeals ? $"{LeadQueries.DealsSql} join leads l on l.lead_id = d.primary_lead_id where {Window};" : "select 1 where false;")}
            """, new { from, to }, tx, cancellationToken: cancellationToken));

        // The grid is read to the end and closed before the snapshot's transaction commits.
        (List<LeadFacts>, List<DealFacts>) facts;
        await using (results)
        {
            facts = await ReadFactsAsync(results, withDeals);
        }

        await tx.CommitAsync(cancellationToken);
        return facts;
    }

    private static async Task<(List<LeadFacts> Leads, List<DealFacts> Deals)> ReadFactsAsync(SqlMapper.GridReader results, bool withDeals)
    {
        var leads = (await results.ReadAsync<(Guid Id, DateTime CreatedAt, string? Group, string Kind, string Channel, bool Violations, bool Consent, bool SelfReported)>())
            .Select(static r => new LeadFacts(r.Id, new DateTimeOffset(r.CreatedAt, TimeSpan.Zero), r.Group ?? Unknown, r.Kind, r.Channel, r.Violations, r.Consent, r.SelfReported))
            .ToDictionary(static l => l.LeadId);
        foreach (var (lead, stage, at) in await results.ReadAsync<(Guid, string, DateTime)>())
        {
            if (leads.TryGetValue(lead, out var facts))
            {
                facts.Milestones[stage] = new DateTimeOffset(at, TimeSpan.Zero);
            }
        }

        foreach (var (lead, at) in await results.ReadAsync<(Guid, DateTime)>())
        {
            if (leads.TryGetValue(lead, out var facts))
            {
                facts.FirstResponse = new DateTimeOffset(at, TimeSpan.Zero);
            }
        }

        foreach (var (lead, owner) in await results.ReadAsync<(Guid, string)>())
        {
            if (leads.TryGetValue(lead, out var facts))
            {
                facts.Owner = owner;
            }
        }

        var deals = withDeals
            ? (await results.ReadAsync<(string DealId, string Status, decimal Amount, string Currency, DateTime UpdatedAt, DateTime? ClosedAt, Guid PrimaryLeadId)>())
                .Select(static d => new DealFacts(d.PrimaryLeadId, d.Status, d.Amount, d.Currency)).ToList()
            : [];
        return ([.. leads.Values], deals);
    }

    private static ReportCoverage CoverageOf(IReadOnlyCollection<LeadFacts> leads, bool ga4, CoverageThresholds thresholds)
    {
        string[] unattributed = ga4 ? [Core.Governance.Channels.Ga4.Direct, Core.Governance.Channels.Ga4.Unassigned] : [Core.Governance.Channels.B2b.Direct, Core.Governance.Channels.B2b.Other];
        var n = leads.Count;
        var consent = Rate(leads.Count(static l => l.Consent), n);
        var unattributedShare = Rate(leads.Count(l => unattributed.Contains(l.Channel)), n);
        var directional = n > 0 && (unattributedShare > thresholds.MaxUnattributedShare || 1 - consent > thresholds.MaxNonConsentedShare);
        return new ReportCoverage(n, consent, unattributedShare, Rate(leads.Count(static l => l.Violations), n), Rate(leads.Count(static l => l.SelfReported), n), directional);
    }

    private static double Rate(long part, long whole) => whole == 0 ? 0 : Math.Round((double)part / whole, 4);

    private static double? MedianDays(IEnumerable<LeadFacts> leads, string from, string to) =>
        MedianDays(leads.Where(l => l.Milestones.ContainsKey(from)), l => l.Milestones[from], to);

    private static double? MedianDays(IEnumerable<LeadFacts> leads, Func<LeadFacts, DateTimeOffset> start, string to)
    {
        var days = leads.Where(l => l.Milestones.ContainsKey(to)).Select(l => (l.Milestones[to] - start(l)).TotalDays).Order().ToList();
        return Median(days) is { } median ? Math.Round(median, 2) : null;
    }

    // The middle value, or the mean of the two middle values of an even count.
    private static double? Median(List<double> sorted) =>
        sorted.Count == 0 ? null : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

    private static DateTimeOffset PeriodStart(DateTimeOffset at, string interval) => interval == "week"
        ? new DateTimeOffset(at.UtcDateTime.Date.AddDays(-(((int)at.UtcDateTime.DayOfWeek + 6) % 7)), TimeSpan.Zero)
        : new DateTimeOffset(at.Year, at.Month, 1, 0, 0, 0, TimeSpan.Zero);
}
