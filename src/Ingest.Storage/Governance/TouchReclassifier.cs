using System.Globalization;
using System.Text.Json;
using Ingest.Core.Governance;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ingest.Storage.Governance;

/// <summary>Which stored touches a reclassification reads: at most <see cref="Limit"/> event ids after <see cref="After"/>, of those the ones occurred in [From, To).</summary>
public sealed record ReclassifyScope(DateTimeOffset? From, DateTimeOffset? To, string? After, int Limit);

/// <summary>One channel's touches among those scanned, under the stored and the current rules.</summary>
public sealed record ReclassifiedChannel(string Channel, long Before, long After);

/// <summary>What a reclassification found (dry run) or did (apply); both compute it the same way.</summary>
public sealed class ReclassifyReport
{
    /// <summary>The version of the rules the touches were (or would be) governed under.</summary>
    public required string RulesVersion { get; init; }

    public required bool DryRun { get; init; }
    public required long TouchesScanned { get; init; }

    /// <summary>Touches whose governed values (any column or the record's attribution) change under these rules.</summary>
    public required long TouchesChanged { get; init; }

    /// <summary>Touches whose values stay but whose rules_version is another one (or none): apply stamps the version on them.</summary>
    public required long TouchesStamped { get; init; }

    /// <summary>Touches apply could not lock after retrying (a merge held them); a later call finds them by their rules_version.</summary>
    public required long TouchesSkipped { get; init; }

    /// <summary>Leads whose copy of their first touch's channels changes.</summary>
    public required long LeadsFirstChanged { get; init; }

    public required long LeadsLatestChanged { get; init; }
    public required long LeadsCreatedChanged { get; init; }

    /// <summary>Leads apply could not lock after retrying (the worker held them); a later call over their touches finds them again.</summary>
    public required long LeadsSkipped { get; init; }

    /// <summary>Scanned touches per channel (configured taxonomy) before and after, by channel name.</summary>
    public required IReadOnlyList<ReclassifiedChannel> Channels { get; init; }

    /// <summary>Pages of event ids walked (apply only).</summary>
    public int? Batches { get; init; }

    /// <summary>The event id to pass as <c>after</c> to go on; null when the scan reached the end.</summary>
    public string? Next { get; init; }
}

/// <summary>
/// Recomputes stored touches' governed values from their raw values (the record) with the governance engine itself,
/// and answers or applies the difference; dry run and apply read and compute alike. Touches are read in keyset pages by
/// event id; applying rewrites a page's changed rows in one statement that locks them with <c>for update skip locked</c>,
/// then brings the leads' copies of their first, latest and lead-creation touch up to date in another, locked the same
/// way, so the worker never waits for more than one statement and a reclassification never waits for the worker.
/// </summary>
public sealed partial class TouchReclassifier(NpgsqlDataSource dataSource, ILogger<TouchReclassifier> logger)
{
    /// <summary>Most event ids one call walks (touches outside from/to included); the answer's <c>next</c> goes on from there.</summary>
    public const int MaxTouchesPerCall = 50_000;

    /// <summary>Event ids per page; a page's rewrite is one statement, its own short transaction.</summary>
    public const int BatchSize = 1_000;

    private const int LockAttempts = 6;
    private static readonly TimeSpan LockRetryDelay = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// The governed columns of a touch row, recomputed from the record and compared with what is stored; the lead keeps
    /// a copy of those marked (<c>first_</c>/<c>latest_</c>/<c>created_</c> + name). A new governed column is one line here.
    /// </summary>
    private static readonly GovernedColumn[] Columns =
    [
        new("channel", "text", static g => g.Channel, CopiedToLeads: true),
        new("ga4_channel", "text", static g => g.Ga4Channel, CopiedToLeads: true),
        new("source", "text", static g => g.Source),
        new("medium", "text", static g => g.Medium),
        new("campaign", "text", static g => g.Campaign),
        new("term", "text", static g => g.Term),
        new("content", "text", static g => g.Content),
        new("click_id", "text", static g => g.ClickId),
        new("click_network", "text", static g => g.ClickNetwork),
        new("landing_page", "text", static g => g.LandingPage),
        new("referrer_class", "text", static g => g.ReferrerClass),
        new("source_detail", "text", static g => g.SourceDetail, CopiedToLeads: true),
        new("violation_count", "integer", static g => g.Violations.Count.ToString(CultureInfo.InvariantCulture)),
    ];

    private static readonly int ChannelColumn = Array.FindIndex(Columns, static c => c.Name == "channel");
    private static readonly string[] LeadCopies = ["first", "latest", "created"];
    private static readonly GovernedColumn[] CopiedColumns = [.. Columns.Where(static c => c.CopiedToLeads)];

    private static readonly string SelectTouches =
        $"select event_id, lead_id, rules_version, record::text, {string.Join(", ", Columns.Select(static c => c.Name + "::text"))} from touches where event_id = any($1)";

    private static readonly string UpdateTouches = $$"""
        update touches t set {{string.Join(", ", Columns.Select(static c => $"{c.Name} = u.{c.Name}::{c.SqlType}"))}},
            record = jsonb_set(t.record, '{attribution}', u.attribution::jsonb), rules_version = $1
        from unnest($2::text[], $3::text[], {{string.Join(", ", Columns.Select(static (_, i) => $"${i + 4}::text[]"))}})
            as u(event_id, attribution, {{string.Join(", ", Columns.Select(static c => c.Name))}})
        where t.event_id = u.event_id and t.event_id in (select event_id from touches where event_id = any($2) for update skip locked)
        returning t.event_id
        """;

    private static readonly string SelectLeads =
        $"select lead_id, {string.Join(", ", LeadCopies.Select(static p => $"{p}_event_id, " + string.Join(", ", CopiedColumns.Select(c => $"{p}_{c.Name}"))))} "
        + "from leads where lead_id = any($1) and merged_into is null";

    private static readonly string UpdateLeads = $"""
        with locked as (select lead_id from leads where lead_id = any($1) for update skip locked),
        updated as (
            update leads l set {string.Join(", ", LeadCopies.Select(static p =>
                $"({string.Join(", ", CopiedColumns.Select(c => $"{p}_{c.Name}"))}) = (select {string.Join(", ", CopiedColumns.Select(static c => "t." + c.Name))} from touches t where t.event_id = l.{p}_event_id)"))}
            from locked k where l.lead_id = k.lead_id and l.merged_into is null
            returning l.lead_id)
        select lead_id from locked
        """;

    /// <summary>Recomputes the touches in <paramref name="scope"/> under <paramref name="rules"/>; writes the difference only when <paramref name="apply"/>.</summary>
    public async Task<ReclassifyReport> RunAsync(GovernanceRules rules, ReclassifyScope scope, bool apply, CancellationToken cancellationToken)
    {
        var engine = new GovernanceEngine(rules);
        var tally = new Tally();
        var cursor = scope.After;
        var batches = 0;
        var walked = 0;
        var exhausted = false;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        while (walked < scope.Limit)
        {
            var size = Math.Min(BatchSize, scope.Limit - walked);
            var ids = await PageAsync(connection, cursor, size, cancellationToken);
            walked += ids.Length;
            if (ids.Length > 0)
            {
                cursor = ids[^1];
                batches++;
                var governed = await ReadAsync(connection, ids, scope, engine, rules.VersionStamp, cancellationToken);
                tally.Add(governed);
                if (apply)
                {
                    tally.TouchesSkipped += await WriteTouchesAsync(connection, governed.Where(static g => g.Changed || g.Stamp).ToList(), rules.VersionStamp, cancellationToken);
                }

                var leads = await LeadChangesAsync(connection, governed, cancellationToken);
                tally.Add(leads);
                if (apply)
                {
                    tally.LeadsSkipped += await UpdateLeadsAsync(connection, leads.Select(static l => l.LeadId).ToArray(), cancellationToken);
                }
            }

            if (ids.Length < size)
            {
                exhausted = true;
                break;
            }
        }

        var report = tally.Report(rules.VersionStamp, dryRun: !apply, apply ? batches : null, exhausted ? null : cursor);
        LogReclassified(logger, apply, report.TouchesScanned, report.TouchesChanged, report.TouchesStamped, rules.VersionStamp);
        if (report.TouchesSkipped > 0 || report.LeadsSkipped > 0)
        {
            LogSkipped(logger, report.TouchesSkipped, report.LeadsSkipped);
        }

        return report;
    }

    /// <summary>The next page of event ids after <paramref name="after"/>, from the primary key alone: each call walks at most its limit, whatever the window.</summary>
    private static async Task<string[]> PageAsync(NpgsqlConnection connection, string? after, int size, CancellationToken cancellationToken)
    {
        // The condition is left out rather than nulled, so the planner walks the primary key from the cursor.
        await using var command = new NpgsqlCommand(
            after is null ? "select event_id from touches order by event_id limit $1" : "select event_id from touches where event_id > $2 order by event_id limit $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = size });
        if (after is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = after });
        }

        var ids = new List<string>(size);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetString(0));
        }

        return [.. ids];
    }

    /// <summary>
    /// The touches of <paramref name="ids"/> that occurred in the scope's window, each governed again. Read without locks:
    /// a touch's record never changes once stored (a merge changes only its lead), so what is computed here stays true
    /// until it is written.
    /// </summary>
    private static async Task<List<GovernedTouch>> ReadAsync(NpgsqlConnection connection, string[] ids, ReclassifyScope scope, GovernanceEngine engine, string version,
        CancellationToken cancellationToken)
    {
        var sql = SelectTouches;
        await using var command = new NpgsqlCommand { Connection = connection };
        command.Parameters.Add(new NpgsqlParameter { Value = ids });
        foreach (var (bound, condition) in new[] { (scope.From, "occurred_at >="), (scope.To, "occurred_at <") })
        {
            if (bound is { } at)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = at.UtcDateTime });
                sql += $" and {condition} ${command.Parameters.Count}";
            }
        }

        command.CommandText = sql + " order by event_id";
        var governed = new List<GovernedTouch>(ids.Length);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var stored = new string?[Columns.Length];
            for (var i = 0; i < Columns.Length; i++)
            {
                stored[i] = reader.IsDBNull(4 + i) ? null : reader.GetString(4 + i);
            }

            var record = JsonSerializer.Deserialize(reader.GetString(3), IngestJsonContext.Default.TouchRecord)!;
            governed.Add(Govern(reader.GetString(0), reader.GetGuid(1), reader.IsDBNull(2) ? null : reader.GetString(2), record, stored, engine, version));
        }

        return governed;
    }

    /// <summary>The one computation of dry run and apply: the record's raw values through the engine, compared with the stored values.</summary>
    private static GovernedTouch Govern(string eventId, Guid leadId, string? storedVersion, TouchRecord record, string?[] stored, GovernanceEngine engine, string version)
    {
        var after = engine.Evaluate(TouchBuilder.GovernanceInputOf(record));
        var values = Columns.Select(c => c.Value(after)).ToArray();
        var before = record.Attribution;
        before.RulesVersion = after.RulesVersion;
        var attribution = JsonSerializer.Serialize(after, IngestJsonContext.Default.GovernanceResult);
        var changed = !values.SequenceEqual(stored, StringComparer.Ordinal)
            || attribution != JsonSerializer.Serialize(before, IngestJsonContext.Default.GovernanceResult);
        return new GovernedTouch(eventId, leadId, stored, values, attribution, changed, !changed && storedVersion != version);
    }

    /// <summary>
    /// Rewrites <paramref name="rows"/> in one statement (its own short transaction) that locks them with
    /// <c>for update skip locked</c>: a row another transaction holds (a merge) is left alone and retried a few times;
    /// returns how many stayed locked.
    /// </summary>
    private static async Task<int> WriteTouchesAsync(NpgsqlConnection connection, List<GovernedTouch> rows, string version, CancellationToken cancellationToken)
    {
        for (var attempt = 0; rows.Count > 0 && attempt < LockAttempts; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(LockRetryDelay * attempt, cancellationToken);
            }

            await using var command = new NpgsqlCommand(UpdateTouches, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = version });
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(static r => r.EventId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(static r => r.Attribution).ToArray() });
            for (var i = 0; i < Columns.Length; i++)
            {
                var column = i;
                command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = rows.Select(r => r.Values[column]).ToArray() });
            }

            var written = new HashSet<string>(StringComparer.Ordinal);
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    written.Add(reader.GetString(0));
                }
            }

            rows = rows.Where(r => !written.Contains(r.EventId)).ToList();
        }

        return rows.Count;
    }

    /// <summary>
    /// The leads whose copy of a first, latest or lead-creation touch in this page differs from that touch's values under
    /// these rules. Every touch's lead is read, not only the changed touches' ones, so a copy an earlier apply could not
    /// lock is found again.
    /// </summary>
    private static async Task<List<LeadChange>> LeadChangesAsync(NpgsqlConnection connection, List<GovernedTouch> governed, CancellationToken cancellationToken)
    {
        var byEvent = governed.ToDictionary(static g => g.EventId, StringComparer.Ordinal);
        if (byEvent.Count == 0)
        {
            return [];
        }

        await using var command = new NpgsqlCommand(SelectLeads, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = byEvent.Values.Select(static g => g.LeadId).Distinct().ToArray() });
        var changes = new List<LeadChange>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var changed = new bool[LeadCopies.Length];
            for (var p = 0; p < LeadCopies.Length; p++)
            {
                var at = 1 + (p * (1 + CopiedColumns.Length));
                if (!reader.IsDBNull(at) && byEvent.TryGetValue(reader.GetString(at), out var touch))
                {
                    var values = CopiedValues(touch);
                    for (var c = 0; c < CopiedColumns.Length && !changed[p]; c++)
                    {
                        changed[p] = values[c] != (reader.IsDBNull(at + 1 + c) ? null : reader.GetString(at + 1 + c));
                    }
                }
            }

            if (changed.Any(static c => c))
            {
                changes.Add(new LeadChange(reader.GetGuid(0), changed[0], changed[1], changed[2]));
            }
        }

        return changes;
    }

    private static string?[] CopiedValues(GovernedTouch touch) =>
        [.. Columns.Select((c, i) => (c, i)).Where(static x => x.c.CopiedToLeads).Select(x => touch.Values[x.i])];

    /// <summary>
    /// Copies the touches' values into their leads, each lead locked with <c>skip locked</c> and retried a few times while
    /// the worker holds it; returns how many stayed locked (a later call over their touches finds them again).
    /// </summary>
    private static async Task<int> UpdateLeadsAsync(NpgsqlConnection connection, Guid[] leads, CancellationToken cancellationToken)
    {
        var pending = leads;
        for (var attempt = 0; pending.Length > 0 && attempt < LockAttempts; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(LockRetryDelay * attempt, cancellationToken);
            }

            await using var command = new NpgsqlCommand(UpdateLeads, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = pending });
            var done = new HashSet<Guid>();
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    done.Add(reader.GetGuid(0));
                }
            }

            pending = [.. pending.Where(l => !done.Contains(l))];
        }

        return pending.Length;
    }

    [LoggerMessage(EventId = 4701, EventName = "TouchesReclassified", Level = LogLevel.Information,
        Message = "Reclassification (apply {Apply}) scanned {Scanned} touches: {Changed} changed, {Stamped} stamped, under rules {RulesVersion}")]
    private static partial void LogReclassified(ILogger logger, bool apply, long scanned, long changed, long stamped, string rulesVersion);

    [LoggerMessage(EventId = 4702, EventName = "ReclassifyRowsLocked", Level = LogLevel.Warning,
        Message = "Reclassification left {Touches} touches and {Leads} leads that other transactions held; a later call over them finds them again")]
    private static partial void LogSkipped(ILogger logger, long touches, long leads);

    /// <summary>A governed column: its name in <c>touches</c> (and, when copied, in <c>leads</c> after the copy's prefix), its SQL type, its value in a result.</summary>
    private sealed record GovernedColumn(string Name, string SqlType, Func<GovernanceResult, string?> Value, bool CopiedToLeads = false);

    private sealed record GovernedTouch(string EventId, Guid LeadId, string?[] Stored, string?[] Values, string Attribution, bool Changed, bool Stamp)
    {
        public string? StoredChannel => Stored[ChannelColumn];
        public string? Channel => Values[ChannelColumn];
    }

    private sealed record LeadChange(Guid LeadId, bool First, bool Latest, bool Created);

    private sealed class Tally
    {
        private readonly Dictionary<string, (long Before, long After)> _channels = new(StringComparer.Ordinal);
        private long _changed;
        private long _stamped;
        private long _first;
        private long _latest;
        private long _created;

        public long Scanned { get; private set; }
        public long TouchesSkipped { get; set; }
        public long LeadsSkipped { get; set; }

        public void Add(List<GovernedTouch> governed)
        {
            foreach (var g in governed)
            {
                Scanned++;
                _changed += g.Changed ? 1 : 0;
                _stamped += g.Stamp ? 1 : 0;
                Count(g.StoredChannel, before: 1, after: 0);
                Count(g.Channel, before: 0, after: 1);
            }
        }

        public void Add(List<LeadChange> leads)
        {
            foreach (var l in leads)
            {
                _first += l.First ? 1 : 0;
                _latest += l.Latest ? 1 : 0;
                _created += l.Created ? 1 : 0;
            }
        }

        public ReclassifyReport Report(string version, bool dryRun, int? batches, string? next) => new()
        {
            RulesVersion = version,
            DryRun = dryRun,
            TouchesScanned = Scanned,
            TouchesChanged = _changed,
            TouchesStamped = _stamped,
            TouchesSkipped = TouchesSkipped,
            LeadsSkipped = LeadsSkipped,
            LeadsFirstChanged = _first,
            LeadsLatestChanged = _latest,
            LeadsCreatedChanged = _created,
            Channels = [.. _channels.OrderBy(static c => c.Key, StringComparer.Ordinal).Select(static c => new ReclassifiedChannel(c.Key, c.Value.Before, c.Value.After))],
            Batches = batches,
            Next = next,
        };

        private void Count(string? channel, long before, long after)
        {
            var key = channel ?? "";
            var (b, a) = _channels.GetValueOrDefault(key);
            _channels[key] = (b + before, a + after);
        }
    }
}
