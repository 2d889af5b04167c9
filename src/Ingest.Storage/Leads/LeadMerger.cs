using Ingest.Core.Touches;
using Ingest.Storage.Touches;
using Npgsql;

namespace Ingest.Storage.Leads;

/// <summary>
/// Joins the leads one batch shows to be one person (a touch whose lead and whose keys' owners differ) into the lead with
/// the earliest first touch: touches, identities and outcomes move to the survivor, the others point at it, the merge is recorded.
/// </summary>
internal static class LeadMerger
{
    /// <summary>Merges every group the batch's touches join; returns each grouped lead's survivor and the stored leads merged.</summary>
    public static async Task<(Dictionary<Guid, Guid> Survivors, List<(Guid Merged, Guid Survivor)> Merges)> MergeAsync(NpgsqlConnection connection,
        NpgsqlTransaction tx, List<ResolvedTouch> fresh, IReadOnlyDictionary<IdentityKey, Guid> owners, CancellationToken cancellationToken)
    {
        var sets = new LeadSets();
        foreach (var touch in fresh)
        {
            foreach (var key in touch.Keys)
            {
                sets.Union(touch.LeadId, owners[key]);
            }
        }

        var merges = new List<(Guid Merged, Guid Survivor)>();
        var survivors = new Dictionary<Guid, Guid>();
        foreach (var group in sets.Groups())
        {
            var (survivor, merged) = await MergeGroupAsync(connection, tx, group, fresh, cancellationToken);
            foreach (var lead in group)
            {
                survivors[lead] = survivor;
            }

            merges.AddRange(merged.Select(m => (m, survivor)));
        }

        return (survivors, merges);
    }

    /// <summary>The survivor of each of <paramref name="merged"/> that Postgres has merged.</summary>
    public static async Task<Dictionary<Guid, Guid>> SurvivorsOfAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid[] merged,
        CancellationToken cancellationToken)
    {
        var survivors = new Dictionary<Guid, Guid>();
        await using var select = new NpgsqlCommand("select lead_id, merged_into from leads where lead_id = any($1) and merged_into is not null", connection, tx);
        select.Parameters.Add(new NpgsqlParameter { Value = merged });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            survivors[reader.GetGuid(0)] = reader.GetGuid(1);
        }

        return survivors;
    }

    /// <summary>
    /// Joins a group of leads into the one with the earliest first touch (this batch's touches count); the survivor's
    /// first, latest and lead-creation touch and count are recomputed from its stored touches (the batch's own are added by the upsert).
    /// Returns the survivor and the stored leads merged into it.
    /// </summary>
    private static async Task<(Guid Survivor, Guid[] Merged)> MergeGroupAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid[] group,
        List<ResolvedTouch> fresh, CancellationToken cancellationToken)
    {
        var firsts = new Dictionary<Guid, (DateTimeOffset At, string EventId)>();
        var stale = new Dictionary<Guid, Guid>();
        // Every stored lead of the group, with or without touches (an outcome creates a lead before its first touch).
        var stored = new HashSet<Guid>();
        await using (var select = new NpgsqlCommand(
            "select lead_id, first_occurred_at, first_event_id, merged_into from leads where lead_id = any($1) order by lead_id for update", connection, tx))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = group.Order().ToArray() });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var lead = reader.GetGuid(0);
                if (!reader.IsDBNull(3))
                {
                    stale[lead] = reader.GetGuid(3);
                }
                else if (stored.Add(lead) && !reader.IsDBNull(1))
                {
                    firsts[lead] = (reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2));
                }
            }
        }

        if (stale.Count > 0)
        {
            throw new StaleResolutionException(stale);
        }

        foreach (var touch in fresh)
        {
            var candidate = (touch.Record.OccurredAt, touch.Record.EventId);
            if (Array.IndexOf(group, touch.LeadId) >= 0 && (!firsts.TryGetValue(touch.LeadId, out var known) || TouchOrder.Before(candidate, known)))
            {
                firsts[touch.LeadId] = candidate;
            }
        }

        var survivor = group
            .OrderBy(id => firsts.TryGetValue(id, out var f) ? f : (DateTimeOffset.MaxValue, ""), TouchOrder.Comparer)
            .ThenBy(static id => id)
            .First();
        var merged = group.Where(id => id != survivor).ToArray();
        var storedMerged = merged.Where(stored.Contains).ToArray();

        await Exec(connection, tx, "insert into leads (lead_id) values ($1) on conflict do nothing", cancellationToken, survivor);
        await Exec(connection, tx, "update touches set lead_id = $2 where lead_id = any($1)", cancellationToken, merged, survivor);
        await Exec(connection, tx, "update lead_identities set lead_id = $2 where lead_id = any($1)", cancellationToken, merged, survivor);
        // Outcomes (stages, deals, responses) follow the person: milestones and deal states are derived from these rows.
        await Exec(connection, tx, "update outcomes set lead_id = $2 where lead_id = any($1)", cancellationToken, merged, survivor);
        await Exec(connection, tx, "update outcome_leads set lead_id = $2 where lead_id = any($1)", cancellationToken, merged, survivor);
        await Exec(connection, tx, "update leads set merged_into = $2, updated_at = now(), touch_count = 0 where lead_id = any($1) or merged_into = any($1)",
            cancellationToken, merged, survivor);
        await Exec(connection, tx, "insert into lead_merges (merged_lead_id, survivor_lead_id) select unnest($1::uuid[]), $2 on conflict (merged_lead_id) do nothing",
            cancellationToken, storedMerged, survivor);
        await Exec(connection, tx, $"""
            update leads l set
                touch_count = (select count(*) from touches where lead_id = $1),
                first_event_id = f.event_id, first_occurred_at = f.occurred_at, first_channel = f.channel, first_ga4_channel = f.ga4_channel,
                first_source_detail = f.source_detail, first_method = f.method,
                latest_event_id = t.event_id, latest_occurred_at = t.occurred_at, latest_channel = t.channel, latest_ga4_channel = t.ga4_channel,
                latest_source_detail = t.source_detail, latest_method = t.method,
                created_event_id = c.event_id, created_occurred_at = c.occurred_at, created_channel = c.channel, created_ga4_channel = c.ga4_channel,
                created_source_detail = c.source_detail, created_method = c.method,
                updated_at = now()
            from (select 1) one
            left join lateral (select event_id, occurred_at, channel, ga4_channel, source_detail, method from touches where lead_id = $1 order by occurred_at, event_id limit 1) f on true
            left join lateral (select event_id, occurred_at, channel, ga4_channel, source_detail, method from touches where lead_id = $1 order by occurred_at desc, event_id desc limit 1) t on true
            left join lateral (select t.event_id, t.occurred_at, t.channel, t.ga4_channel, t.source_detail, t.method from touches t where t.lead_id = $1 and {LeadCreation.CreatesLeadSql}
                               order by t.occurred_at, t.event_id limit 1) c on true
            where l.lead_id = $1
            """, cancellationToken, survivor);
        return (survivor, storedMerged);
    }

    private static async Task Exec(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Union-find over lead ids: the groups of leads one batch's touches join together.</summary>
    private sealed class LeadSets
    {
        private readonly Dictionary<Guid, Guid> _parent = [];

        public void Union(Guid a, Guid b)
        {
            if (a == b)
            {
                return;
            }

            var (ra, rb) = (Find(a), Find(b));
            if (ra != rb)
            {
                _parent[rb] = ra;
            }
        }

        public IEnumerable<Guid[]> Groups()
        {
            if (_parent.Count == 0)
            {
                return [];
            }

            var members = _parent.Keys.Concat(_parent.Values).Distinct().ToList();
            return members.GroupBy(Find).Select(static g => g.ToArray()).Where(static g => g.Length > 1).ToList();
        }

        private Guid Find(Guid id)
        {
            while (_parent.TryGetValue(id, out var parent) && parent != id)
            {
                id = parent;
            }

            return id;
        }
    }
}
