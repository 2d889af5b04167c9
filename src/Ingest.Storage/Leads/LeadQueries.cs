using Dapper;
using Npgsql;

namespace Ingest.Storage.Leads;

/// <summary>A touch as the read API shows it.</summary>
public sealed record TouchSummary(
    string EventId, string Kind, DateTimeOffset OccurredAt, string Channel, string Ga4Channel, string? Source, string? Medium, string? Campaign,
    string? ClickId, string? ClickNetwork, string? LandingPage, string? Referrer, int ViolationCount);

/// <summary>One identity key of a lead.</summary>
public sealed record LeadIdentity(string Kind, string Value);

/// <summary>A lead with its original and latest source and its timeline (oldest first, newest last).</summary>
public sealed record LeadView(
    Guid LeadId, DateTimeOffset CreatedAt, int TouchCount, TouchSummary? FirstTouch, TouchSummary? LatestTouch,
    IReadOnlyList<LeadIdentity> Identities, IReadOnlyList<Guid> MergedLeadIds, IReadOnlyList<TouchSummary> Touches);

/// <summary>Leads per channel for one period.</summary>
public sealed record ChannelCount(string Channel, long Leads, double Share);

/// <summary>The monthly channel review: leads per channel, the unknown/other/direct share, the governance-violation rate.</summary>
public sealed record ChannelReport(
    DateTimeOffset From, DateTimeOffset To, string Touch, string Taxonomy, long Leads, IReadOnlyList<ChannelCount> Channels,
    double UnattributedShare, double ViolationRate);

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

    /// <summary>The lead (a merged id answers with its survivor), or null.</summary>
    public async Task<LeadView?> GetLeadAsync(Guid leadId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var survivor = await connection.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(
            "select coalesce(merged_into, lead_id) from leads where lead_id = @leadId", new { leadId }, cancellationToken: cancellationToken));
        if (survivor is not { } id)
        {
            return null;
        }

        var lead = await connection.QuerySingleAsync<(Guid LeadId, DateTime CreatedAt, int TouchCount, string? FirstEventId, string? LatestEventId)>(new CommandDefinition(
            "select lead_id, created_at, touch_count, first_event_id, latest_event_id from leads where lead_id = @id", new { id }, cancellationToken: cancellationToken));
        var identities = await connection.QueryAsync<LeadIdentity>(new CommandDefinition(
            "select kind, value from lead_identities where lead_id = @id order by kind, value", new { id }, cancellationToken: cancellationToken));
        var merged = await connection.QueryAsync<Guid>(new CommandDefinition(
            "select merged_lead_id from lead_merges where survivor_lead_id = @id order by merged_at", new { id }, cancellationToken: cancellationToken));
        var touches = await connection.QueryAsync<TouchRow>(new CommandDefinition("""
            select event_id, kind, occurred_at, channel, ga4_channel, source, medium, campaign, click_id, click_network, landing_page, referrer, violation_count
            from touches where lead_id = @id order by occurred_at, event_id
            """, new { id }, cancellationToken: cancellationToken));

        // The lead names its first and latest touch; both are rows of its timeline (touches are append-only).
        var timeline = touches.Select(static t => t.ToSummary()).ToList();
        return new LeadView(lead.LeadId, new DateTimeOffset(lead.CreatedAt, TimeSpan.Zero), lead.TouchCount,
            timeline.Find(t => t.EventId == lead.FirstEventId), timeline.Find(t => t.EventId == lead.LatestEventId),
            identities.ToList(), merged.ToList(), timeline);
    }

    /// <summary>Leads whose first (or latest) touch falls in [from, to), per channel of the taxonomy.</summary>
    public async Task<ChannelReport> ChannelReportAsync(DateTimeOffset from, DateTimeOffset to, bool firstTouch, bool ga4, CancellationToken cancellationToken)
    {
        var prefix = firstTouch ? "first" : "latest";
        var channel = ga4 ? $"{prefix}_ga4_channel" : $"{prefix}_channel";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<(string Channel, long Leads)>(new CommandDefinition($"""
            select {channel}, count(*) from leads
            where merged_into is null and {prefix}_occurred_at >= @from and {prefix}_occurred_at < @to
            group by 1 order by 2 desc, 1
            """, new { from, to }, cancellationToken: cancellationToken))).ToList();
        var violationRate = await connection.QuerySingleAsync<double?>(new CommandDefinition(
            "select avg(case when violation_count > 0 then 1.0 else 0.0 end)::float8 from touches where occurred_at >= @from and occurred_at < @to",
            new { from, to }, cancellationToken: cancellationToken)) ?? 0;

        var total = rows.Sum(static r => r.Leads);
        string[] unattributed = ga4 ? ["Direct", "Unassigned"] : ["direct", "other"];
        var channels = rows.Select(r => new ChannelCount(r.Channel, r.Leads, total == 0 ? 0 : Math.Round((double)r.Leads / total, 4))).ToList();
        var unattributedShare = total == 0 ? 0 : Math.Round(rows.Where(r => unattributed.Contains(r.Channel)).Sum(static r => r.Leads) / (double)total, 4);
        return new ChannelReport(from, to, prefix, ga4 ? "ga4" : "b2b", total, channels, unattributedShare, Math.Round(violationRate, 4));
    }

    private sealed record TouchRow(
        string event_id, string kind, DateTime occurred_at, string channel, string ga4_channel, string? source, string? medium, string? campaign,
        string? click_id, string? click_network, string? landing_page, string? referrer, int violation_count)
    {
        public TouchSummary ToSummary() => new(event_id, kind, new DateTimeOffset(occurred_at, TimeSpan.Zero), channel, ga4_channel, source, medium,
            campaign, click_id, click_network, landing_page, referrer, violation_count);
    }
}
