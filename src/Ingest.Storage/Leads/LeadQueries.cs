using Dapper;
using Ingest.Core.Governance;
using Npgsql;

namespace Ingest.Storage.Leads;

/// <summary>
/// A touch as the read API shows it; <c>source_detail</c> is the drill-down beneath its channel (null for direct touches,
/// and for touches stored before it existed) and <c>method</c> how it entered (docs/governance.md).
/// </summary>
public sealed record TouchSummary(
    string EventId, string Kind, DateTimeOffset OccurredAt, string Channel, string Ga4Channel, string? Source, string? Medium, string? Campaign,
    string? ClickId, string? ClickNetwork, string? LandingPage, string? Referrer, int ViolationCount, string? SourceDetail, string? Method);

/// <summary>One identity key of a lead.</summary>
public sealed record LeadIdentity(string Kind, string Value);

/// <summary>
/// A lead with its original and latest source, the touch that made it a lead, and one page of its timeline (oldest
/// first, newest last, visits included); <c>next_cursor</c> asks for the page after it, null on the last page.
/// A history of visits alone is a visitor: <c>lead_created_touch</c> and <c>lead_created_at</c> are null.
/// </summary>
public sealed record LeadView(
    Guid LeadId, DateTimeOffset CreatedAt, int TouchCount, TouchSummary? FirstTouch, TouchSummary? LatestTouch,
    TouchSummary? LeadCreatedTouch, DateTimeOffset? LeadCreatedAt, IReadOnlyList<LeadIdentity> Identities, IReadOnlyList<Guid> MergedLeadIds, IReadOnlyList<TouchSummary> Touches, string? NextCursor)
{
    /// <summary>The sales owner: the owner named by the latest outcome that names one.</summary>
    public string? Owner { get; init; }

    /// <summary>The lifecycle stage of the latest stage outcome (a regression shows here; milestones keep what was reached).</summary>
    public string? Stage { get; init; }

    /// <summary>Each stage's milestone: the first time it was reached, oldest first.</summary>
    public IReadOnlyList<StageMilestone> Milestones { get; init; } = [];

    /// <summary>Every deal the lead is on, in its latest state.</summary>
    public IReadOnlyList<DealView> Deals { get; init; } = [];

    /// <summary>When sales first answered (the earliest response outcome).</summary>
    public DateTimeOffset? FirstResponseAt { get; init; }

    /// <summary>The lead's outcomes (stage changes, deal updates, responses) beside its touches, oldest first (at most 500).</summary>
    public IReadOnlyList<OutcomeSummary> Outcomes { get; init; } = [];
}

/// <summary>The first time a lead reached a stage.</summary>
public sealed record StageMilestone(string Stage, DateTimeOffset ReachedAt);

/// <summary>A deal in its latest state (by occurred_at): won or lost at the first time it reached that status.</summary>
public sealed record DealView(string DealId, string Status, decimal Amount, string Currency, DateTimeOffset UpdatedAt, DateTimeOffset? ClosedAt, Guid PrimaryLeadId, IReadOnlyList<Guid> LeadIds);

/// <summary>An outcome as the read API shows it.</summary>
public sealed record OutcomeSummary(
    string EventId, string Type, DateTimeOffset OccurredAt, string? SourceSystem, string? Owner, string? Stage, string? DealId, decimal? Amount, string? Currency,
    string? Status, string? Channel, string? By);

/// <summary>Which page of a lead's timeline to read: at most <see cref="Limit"/> touches after <see cref="After"/> (null: from the oldest).</summary>
public sealed record TimelinePage(int Limit, TimelineCursor? After = null)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    /// <summary>The first page with the default size.</summary>
    public static TimelinePage First { get; } = new(DefaultLimit);
}

/// <summary>A position in a timeline: the last touch a page returned, as an opaque URL-safe token.</summary>
public readonly record struct TimelineCursor(DateTimeOffset OccurredAt, string EventId)
{
    public override string ToString() =>
        System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes($"{OccurredAt.UtcTicks}:{EventId}"));

    /// <summary>Reads a token made by <see cref="ToString"/>; false for anything else.</summary>
    public static bool TryParse(string? token, out TimelineCursor cursor)
    {
        cursor = default;
        if (string.IsNullOrEmpty(token) || token.Length > 1024 || !System.Buffers.Text.Base64Url.IsValid(token))
        {
            return false;
        }

        string text;
        try
        {
            text = System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(token));
        }
        catch (FormatException)
        {
            return false;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == text.Length - 1 || !long.TryParse(text.AsSpan(0, colon), System.Globalization.NumberStyles.None, null, out var ticks)
            || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        cursor = new TimelineCursor(new DateTimeOffset(ticks, TimeSpan.Zero), text[(colon + 1)..]);
        return true;
    }
}

/// <summary>Which of a lead's touches a report reads: its first (original source), latest, or lead-creation touch.</summary>
public enum ReportTouch
{
    First,
    Latest,
    LeadCreated,
}

/// <summary>What the channel report counts leads by: the touch's channel (default), its source detail or its method.</summary>
public enum ChannelGrouping
{
    Channel,
    SourceDetail,
    Method,
}

/// <summary>Leads per channel for one period; with another grouping, <c>channel</c> holds the group's value (<c>(none)</c> when unset).</summary>
public sealed record ChannelCount(string Channel, long Leads, double Share);

/// <summary>The monthly channel review: leads per channel (or source detail or method), the unknown/other/direct share, the governance-violation rate.</summary>
public sealed record ChannelReport(
    DateTimeOffset From, DateTimeOffset To, string Touch, string Taxonomy, long Leads, IReadOnlyList<ChannelCount> Channels,
    double UnattributedShare, double ViolationRate)
{
    /// <summary><c>channel</c>, <c>source_detail</c> or <c>method</c>: what the rows of <c>channels</c> count leads by.</summary>
    public string GroupBy { get; init; } = "channel";
}

/// <summary>Read queries over the system of record (Dapper over the singleton data source).</summary>
public sealed class LeadQueries(NpgsqlDataSource dataSource)
{
    /// <summary>Lead ids that identity resolves to the survivor (following merges); null when unknown.</summary>
    public async Task<Guid?> FindByIdentityAsync(string kind, string value, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(
            "select coalesce(l.merged_into, l.lead_id) from lead_identities i join leads l on l.lead_id = i.lead_id where i.kind = @kind and i.value = @value",
            new { kind, value }, cancellationToken: cancellationToken));
    }

    private const string TouchColumns =
        "t.event_id, t.kind, t.occurred_at, t.channel, t.ga4_channel, t.source, t.medium, t.campaign, t.click_id, t.click_network, t.landing_page, t.referrer, t.violation_count, t.source_detail, t.method";

    // Every statement resolves a merged id to its survivor itself, so the batch needs no second round trip.
    private const string Survivor = "(select coalesce(merged_into, lead_id) from leads where lead_id = @leadId)";

    /// <summary>
    /// The lead (a merged id answers with its survivor) with one page of its timeline, or null. One batch of statements
    /// in one repeatable-read transaction: the lead, its identities, merges, first/latest touch and page agree.
    /// </summary>
    public async Task<LeadView?> GetLeadAsync(Guid leadId, TimelinePage page, CancellationToken cancellationToken)
    {
        var after = page.After is not null ? "and (t.occurred_at, t.event_id) > (@afterAt, @afterId)" : "";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        LeadView? view;
        await using (var results = await connection.QueryMultipleAsync(new CommandDefinition($"""
            select lead_id, created_at, touch_count, first_event_id, latest_event_id, created_event_id from leads where lead_id = {Survivor};
            select kind, value from lead_identities where lead_id = {Survivor} order by kind, value;
            select merged_lead_id from lead_merges where survivor_lead_id = {Survivor} order by merged_at;
            select {TouchColumns} from touches t join leads l on t.event_id in (l.first_event_id, l.latest_event_id, l.created_event_id) and t.lead_id = l.lead_id
            where l.lead_id = {Survivor};
            select {TouchColumns} from touches t where t.lead_id = {Survivor} {after} order by t.occurred_at, t.event_id limit @take;
            select event_id, type, occurred_at, source_system, owner, stage, deal_id, amount, currency, status, channel, responder
            from outcomes where lead_id = {Survivor} order by occurred_at, event_id limit 500;
            select stage, min(occurred_at) as reached_at from outcomes where lead_id = {Survivor} and type = 'stage' group by stage order by 2, 1;
            select owner from outcomes where lead_id = {Survivor} and owner is not null order by occurred_at desc, event_id desc limit 1;
            select stage from outcomes where lead_id = {Survivor} and type = 'stage' order by occurred_at desc, event_id desc limit 1;
            select min(occurred_at) from outcomes where lead_id = {Survivor} and type = 'response';
            {DealsSql} where d.deal_id in (select o.deal_id from outcome_leads ol join outcomes o on o.event_id = ol.event_id where ol.lead_id = {Survivor}) order by d.updated_at;
            """, new { leadId, afterAt = page.After?.OccurredAt.UtcDateTime, afterId = page.After?.EventId, take = page.Limit + 1 }, tx,
            cancellationToken: cancellationToken)))
        {
            var lead = await results.ReadSingleOrDefaultAsync<LeadRow>();
            var identities = (await results.ReadAsync<LeadIdentity>()).ToList();
            var merged = (await results.ReadAsync<Guid>()).ToList();
            var marked = (await results.ReadAsync<TouchRow>()).Select(static t => t.ToSummary()).ToList();
            var timeline = (await results.ReadAsync<TouchRow>()).Select(static t => t.ToSummary()).ToList();
            var outcomes = (await results.ReadAsync<OutcomeRow>()).Select(static o => o.ToSummary()).ToList();
            var milestones = (await results.ReadAsync<(string Stage, DateTime ReachedAt)>()).Select(static m => new StageMilestone(m.Stage, new DateTimeOffset(m.ReachedAt, TimeSpan.Zero))).ToList();
            var owner = await results.ReadSingleOrDefaultAsync<string?>();
            var stage = await results.ReadSingleOrDefaultAsync<string?>();
            var firstResponse = await results.ReadSingleAsync<DateTime?>();
            var deals = (await results.ReadAsync<DealRow>()).Select(static d => d.ToView()).ToList();
            if (lead is not { } l)
            {
                view = null;
            }
            else
            {
                string? next = null;
                if (timeline.Count > page.Limit)
                {
                    timeline.RemoveAt(timeline.Count - 1);
                    next = new TimelineCursor(timeline[^1].OccurredAt, timeline[^1].EventId).ToString();
                }

                var created = marked.Find(t => t.EventId == l.created_event_id);
                view = new LeadView(l.lead_id, new DateTimeOffset(l.created_at, TimeSpan.Zero), l.touch_count,
                    marked.Find(t => t.EventId == l.first_event_id), marked.Find(t => t.EventId == l.latest_event_id),
                    created, created?.OccurredAt, identities, merged, timeline, next)
                {
                    Owner = owner,
                    Stage = stage,
                    Milestones = milestones,
                    Deals = deals,
                    FirstResponseAt = firstResponse is { } at ? new DateTimeOffset(at, TimeSpan.Zero) : null,
                    Outcomes = outcomes,
                };
            }
        }

        await tx.CommitAsync(cancellationToken);
        return view;
    }

    /// <summary>
    /// Leads (visitors are not counted) whose first, latest or lead-creation touch falls in [from, to), per channel of
    /// the taxonomy, or per source detail or method of that touch.
    /// </summary>
    public async Task<ChannelReport> ChannelReportAsync(DateTimeOffset from, DateTimeOffset to, ReportTouch touch, bool ga4, CancellationToken cancellationToken,
        ChannelGrouping groupBy = ChannelGrouping.Channel)
    {
        var (prefix, name) = touch switch
        {
            ReportTouch.First => ("first", "first"),
            ReportTouch.Latest => ("latest", "latest"),
            _ => ("created", "lead_created"),
        };
        var channel = ga4 ? $"{prefix}_ga4_channel" : $"{prefix}_channel";
        var group = groupBy switch
        {
            ChannelGrouping.SourceDetail => $"coalesce({prefix}_source_detail, '(none)')",
            ChannelGrouping.Method => $"coalesce({prefix}_method, '(none)')",
            _ => channel,
        };
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // Per group and channel: the unattributed share is a share of channels whatever the grouping.
        var cells = (await connection.QueryAsync<(string Group, string Channel, long Leads)>(new CommandDefinition($"""
            select {group}, {channel}, count(*) from leads
            where merged_into is null and created_event_id is not null and {prefix}_occurred_at >= @from and {prefix}_occurred_at < @to
            group by 1, 2
            """, new { from, to }, cancellationToken: cancellationToken))).ToList();
        var rows = cells.GroupBy(static c => c.Group).Select(static g => (Channel: g.Key, Leads: g.Sum(static c => c.Leads)))
            .OrderByDescending(static r => r.Leads).ThenBy(static r => r.Channel, StringComparer.Ordinal).ToList();
        var violationRate = await connection.QuerySingleAsync<double?>(new CommandDefinition(
            "select avg(case when violation_count > 0 then 1.0 else 0.0 end)::float8 from touches where occurred_at >= @from and occurred_at < @to",
            new { from, to }, cancellationToken: cancellationToken)) ?? 0;

        var total = rows.Sum(static r => r.Leads);
        string[] unattributed = ga4 ? [Channels.Ga4.Direct, Channels.Ga4.Unassigned] : [Channels.B2b.Direct, Channels.B2b.Other];
        var channels = rows.Select(r => new ChannelCount(r.Channel, r.Leads, total == 0 ? 0 : Math.Round((double)r.Leads / total, 4))).ToList();
        var unattributedShare = total == 0 ? 0 : Math.Round(cells.Where(c => unattributed.Contains(c.Channel)).Sum(static c => c.Leads) / (double)total, 4);
        var groupName = groupBy switch { ChannelGrouping.SourceDetail => "source_detail", ChannelGrouping.Method => "method", _ => "channel" };
        return new ChannelReport(from, to, name, ga4 ? "ga4" : "b2b", total, channels, unattributedShare, Math.Round(violationRate, 4)) { GroupBy = groupName };
    }

    /// <summary>
    /// Every deal in its latest state (latest occurred_at, ties by event id), with the leads of that latest outcome and the
    /// first time the deal reached its current won/lost status; alias <c>d</c>.
    /// </summary>
    internal const string DealsSql = """
        select d.deal_id, d.status, d.amount, d.currency, d.updated_at, d.closed_at, d.primary_lead_id, d.lead_ids from (
            select distinct on (o.deal_id) o.deal_id, o.status, o.amount, o.currency, o.occurred_at as updated_at, o.lead_id as primary_lead_id,
                   case when o.status in ('won', 'lost') then (select min(c.occurred_at) from outcomes c where c.type = 'deal' and c.deal_id = o.deal_id and c.status = o.status) end as closed_at,
                   array(select distinct ol.lead_id from outcome_leads ol where ol.event_id = o.event_id) as lead_ids
            from outcomes o where o.type = 'deal'
            order by o.deal_id, o.occurred_at desc, o.event_id desc) d
        """;

    private sealed record OutcomeRow(
        string event_id, string type, DateTime occurred_at, string? source_system, string? owner, string? stage, string? deal_id, decimal? amount, string? currency,
        string? status, string? channel, string? responder)
    {
        public OutcomeSummary ToSummary() => new(event_id, type, new DateTimeOffset(occurred_at, TimeSpan.Zero), source_system, owner, stage, deal_id, amount, currency,
            status, channel, responder);
    }

    // A class with setters: Dapper reports uuid[] columns as System.Array, which no constructor parameter matches.
    private sealed class DealRow
    {
        public string deal_id { get; set; } = "";
        public string status { get; set; } = "";
        public decimal amount { get; set; }
        public string currency { get; set; } = "";
        public DateTime updated_at { get; set; }
        public DateTime? closed_at { get; set; }
        public Guid primary_lead_id { get; set; }
        public Guid[] lead_ids { get; set; } = [];

        public DealView ToView() => new(deal_id, status, amount, currency, new DateTimeOffset(updated_at, TimeSpan.Zero),
            closed_at is { } c ? new DateTimeOffset(c, TimeSpan.Zero) : null, primary_lead_id, lead_ids);
    }

    private sealed record LeadRow(Guid lead_id, DateTime created_at, int touch_count, string? first_event_id, string? latest_event_id, string? created_event_id);

    private sealed record TouchRow(
        string event_id, string kind, DateTime occurred_at, string channel, string ga4_channel, string? source, string? medium, string? campaign,
        string? click_id, string? click_network, string? landing_page, string? referrer, int violation_count, string? source_detail, string? method)
    {
        public TouchSummary ToSummary() => new(event_id, kind, new DateTimeOffset(occurred_at, TimeSpan.Zero), channel, ga4_channel, source, medium,
            campaign, click_id, click_network, landing_page, referrer, violation_count, source_detail, method);
    }
}
