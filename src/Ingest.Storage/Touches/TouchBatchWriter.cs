using Ingest.Core.Touches;
using Npgsql;
using NpgsqlTypes;

namespace Ingest.Storage.Touches;

/// <summary>
/// Writes one batch in one transaction: leads created, identities upserted (Postgres decides who owns a key; a key found
/// under two leads merges them into the lead with the earlier first touch), touches binary-COPYed into a staging table
/// and appended with <c>ON CONFLICT (event_id) DO NOTHING</c>, then leads' first touch moved only earlier, latest touch
/// only later, and <c>touch_count</c> raised by the touches actually inserted.
/// </summary>
public sealed class TouchBatchWriter(NpgsqlDataSource dataSource)
{
    private const string StagingColumns =
        "event_id, lead_id, kind, door, occurred_at, received_at, channel, ga4_channel, source, medium, campaign, term, content, click_id, click_network, landing_page, referrer, referrer_class, violation_count, record";

    public async Task<StoredBatch> WriteAsync(IReadOnlyList<ResolvedTouch> touches, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);

        // 1. Leads the resolver created, and every identity key of the batch.
        var leadIds = touches.Select(static t => t.LeadId).Distinct().Order().ToArray();
        await Exec(connection, tx, "insert into leads (lead_id) select unnest($1::uuid[]) on conflict do nothing", cancellationToken, leadIds);

        var keyed = new Dictionary<IdentityKey, Guid>();
        foreach (var t in touches)
        {
            foreach (var key in IdentityKey.Of(t.Record))
            {
                keyed.TryAdd(key, t.LeadId);
            }
        }

        var kinds = keyed.Keys.Select(static k => k.Kind).ToArray();
        var values = keyed.Keys.Select(static k => k.Value).ToArray();
        await Exec(connection, tx,
            "insert into lead_identities (kind, value, lead_id) select * from unnest($1::text[], $2::text[], $3::uuid[]) order by 1, 2 on conflict (kind, value) do nothing",
            cancellationToken, kinds, values, keyed.Values.ToArray());

        // 2. Postgres is the truth: read who owns each key now (following merges to the survivor).
        var owners = new Dictionary<IdentityKey, Guid>();
        await using (var select = new NpgsqlCommand("""
            select i.kind, i.value, coalesce(l.merged_into, i.lead_id)
            from lead_identities i join leads l on l.lead_id = i.lead_id
            join unnest($1::text[], $2::text[]) as k(kind, value) on k.kind = i.kind and k.value = i.value
            """, connection, tx))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = kinds });
            select.Parameters.Add(new NpgsqlParameter { Value = values });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                owners[new IdentityKey(reader.GetString(0), reader.GetString(1))] = reader.GetGuid(2);
            }
        }

        // 3. A touch whose keys (or its resolver lead) belong to several leads joins them: union-find over lead ids.
        var parent = new Dictionary<Guid, Guid>();
        Guid Find(Guid id)
        {
            while (parent.TryGetValue(id, out var p) && p != id)
            {
                id = p;
            }

            return id;
        }

        var touchLeads = new Guid[touches.Count];
        for (var i = 0; i < touches.Count; i++)
        {
            var lead = touches[i].LeadId;
            foreach (var key in IdentityKey.Of(touches[i].Record))
            {
                var owner = owners[key];
                var (a, b) = (Find(lead), Find(owner));
                if (a != b)
                {
                    parent[b] = a;
                }

                lead = Find(lead);
            }

            touchLeads[i] = lead;
        }

        var merges = new List<(Guid Merged, Guid Survivor)>();
        var groups = parent.Keys.Concat(parent.Values).Distinct().GroupBy(Find).Where(static g => g.Count() > 1).ToList();
        if (groups.Count > 0)
        {
            merges.AddRange(await MergeAsync(connection, tx, groups.Select(static g => g.ToArray()).ToList(), touches, touchLeads, cancellationToken));
        }

        var survivorOf = merges.ToDictionary(static m => m.Merged, static m => m.Survivor);
        Guid Survivor(Guid id)
        {
            id = Find(id);
            return survivorOf.TryGetValue(id, out var s) ? s : id;
        }

        // 4. Touches: binary COPY into a staging table, then one idempotent insert.
        await Exec(connection, tx, $"create temp table touch_staging (like touches including defaults) on commit drop", cancellationToken);
        await using (var import = await connection.BeginBinaryImportAsync($"copy touch_staging ({StagingColumns}) from stdin (format binary)", cancellationToken))
        {
            for (var i = 0; i < touches.Count; i++)
            {
                var r = touches[i].Record;
                var a = r.Attribution;
                await import.StartRowAsync(cancellationToken);
                await import.WriteAsync(r.EventId, NpgsqlDbType.Text, cancellationToken);
                await import.WriteAsync(Survivor(touchLeads[i]), NpgsqlDbType.Uuid, cancellationToken);
                await import.WriteAsync(r.Kind.ToString().ToLowerInvariant(), NpgsqlDbType.Text, cancellationToken);
                await import.WriteAsync(r.Door, NpgsqlDbType.Text, cancellationToken);
                await import.WriteAsync(r.OccurredAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
                await import.WriteAsync(r.ReceivedAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
                await import.WriteAsync(a.Channel, NpgsqlDbType.Text, cancellationToken);
                await import.WriteAsync(a.Ga4Channel, NpgsqlDbType.Text, cancellationToken);
                await WriteNullable(import, a.Source, cancellationToken);
                await WriteNullable(import, a.Medium, cancellationToken);
                await WriteNullable(import, a.Campaign, cancellationToken);
                await WriteNullable(import, a.Term, cancellationToken);
                await WriteNullable(import, a.Content, cancellationToken);
                await WriteNullable(import, a.ClickId, cancellationToken);
                await WriteNullable(import, a.ClickNetwork, cancellationToken);
                await WriteNullable(import, a.LandingPage, cancellationToken);
                await WriteNullable(import, r.Referrer, cancellationToken);
                await WriteNullable(import, a.ReferrerClass, cancellationToken);
                await import.WriteAsync(a.Violations.Count, NpgsqlDbType.Integer, cancellationToken);
                await import.WriteAsync(touches[i].RecordJson, NpgsqlDbType.Jsonb, cancellationToken);
            }

            await import.CompleteAsync(cancellationToken);
        }

        int inserted;
        await using (var insert = new NpgsqlCommand($"""
            create temp table touch_inserted on commit drop as
            with ins as (
                insert into touches ({StagingColumns})
                select distinct on (event_id) {StagingColumns} from touch_staging order by event_id
                on conflict (event_id) do nothing
                returning event_id, lead_id, occurred_at, channel, ga4_channel, kind, source, medium, campaign, click_id, click_network, landing_page, referrer
            ) select * from ins
            """, connection, tx))
        {
            inserted = await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        // 5. Leads: first touch only moves earlier, latest only later; count what was actually inserted.
        await Exec(connection, tx, $"""
            update leads l set
                touch_count = l.touch_count + a.inserted,
                updated_at = now(),
                first_event_id    = case when l.first_occurred_at is null or f.occurred_at < l.first_occurred_at then f.event_id else l.first_event_id end,
                first_channel     = case when l.first_occurred_at is null or f.occurred_at < l.first_occurred_at then f.channel else l.first_channel end,
                first_ga4_channel = case when l.first_occurred_at is null or f.occurred_at < l.first_occurred_at then f.ga4_channel else l.first_ga4_channel end,
                first_touch       = case when l.first_occurred_at is null or f.occurred_at < l.first_occurred_at then f.summary else l.first_touch end,
                first_occurred_at = case when l.first_occurred_at is null or f.occurred_at < l.first_occurred_at then f.occurred_at else l.first_occurred_at end,
                latest_event_id    = case when l.latest_occurred_at is null or t.occurred_at > l.latest_occurred_at then t.event_id else l.latest_event_id end,
                latest_channel     = case when l.latest_occurred_at is null or t.occurred_at > l.latest_occurred_at then t.channel else l.latest_channel end,
                latest_ga4_channel = case when l.latest_occurred_at is null or t.occurred_at > l.latest_occurred_at then t.ga4_channel else l.latest_ga4_channel end,
                latest_touch       = case when l.latest_occurred_at is null or t.occurred_at > l.latest_occurred_at then t.summary else l.latest_touch end,
                latest_occurred_at = case when l.latest_occurred_at is null or t.occurred_at > l.latest_occurred_at then t.occurred_at else l.latest_occurred_at end
            from (select lead_id, count(*)::int as inserted from touch_inserted group by lead_id) a
            join ({FirstOrLatest(ascending: true)}) f on f.lead_id = a.lead_id
            join ({FirstOrLatest(ascending: false)}) t on t.lead_id = a.lead_id
            where l.lead_id = a.lead_id
            """, cancellationToken);

        await tx.CommitAsync(cancellationToken);
        return new StoredBatch(inserted, touches.Count - inserted, owners.ToDictionary(static kv => kv.Key, kv => Survivor(kv.Value)), merges);
    }

    // One sorted pass over the batch's inserted touches per side (a lateral per lead would rescan the batch per lead).
    private static string FirstOrLatest(bool ascending) => $"""
        select distinct on (i.lead_id) i.lead_id, i.event_id, i.occurred_at, i.channel, i.ga4_channel, {SummaryJson}
        from touch_inserted i
        order by i.lead_id, i.occurred_at {(ascending ? "asc" : "desc")}, i.event_id {(ascending ? "asc" : "desc")}
        """;

    private const string SummaryJson = """
        jsonb_strip_nulls(jsonb_build_object(
            'event_id', i.event_id, 'kind', i.kind, 'occurred_at', i.occurred_at, 'channel', i.channel, 'ga4_channel', i.ga4_channel,
            'source', i.source, 'medium', i.medium, 'campaign', i.campaign, 'click_id', i.click_id, 'click_network', i.click_network,
            'landing_page', i.landing_page, 'referrer', i.referrer)) as summary
        """;

    /// <summary>The touch summary the read API shows for first and latest touch.</summary>
    internal static string SummarySelect(string table, string leadExpression, bool ascending) => $"""
        select i.event_id, i.occurred_at, i.channel, i.ga4_channel, {SummaryJson}
        from {table} i where i.lead_id = {leadExpression}
        order by i.occurred_at {(ascending ? "asc" : "desc")}, i.event_id {(ascending ? "asc" : "desc")} limit 1
        """;

    /// <summary>
    /// Joins each group of leads into the one with the earliest first touch (this batch's touches count): touches and
    /// identities move to the survivor, the others point at it, the merge is recorded, and the survivor's first and
    /// latest touch and count are recomputed from its touches.
    /// </summary>
    private static async Task<List<(Guid, Guid)>> MergeAsync(NpgsqlConnection connection, NpgsqlTransaction tx, List<Guid[]> groups,
        IReadOnlyList<ResolvedTouch> touches, Guid[] touchLeads, CancellationToken cancellationToken)
    {
        var all = groups.SelectMany(static g => g).Order().ToArray();
        var first = new Dictionary<Guid, DateTimeOffset>();
        await using (var select = new NpgsqlCommand("select lead_id, first_occurred_at from leads where lead_id = any($1) order by lead_id for update", connection, tx))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = all });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                first[reader.GetGuid(0)] = reader.IsDBNull(1) ? DateTimeOffset.MaxValue : reader.GetFieldValue<DateTimeOffset>(1);
            }
        }

        for (var i = 0; i < touches.Count; i++)
        {
            var lead = touches[i].LeadId;
            if (first.TryGetValue(lead, out var known) && touches[i].Record.OccurredAt < known)
            {
                first[lead] = touches[i].Record.OccurredAt;
            }
        }

        var merges = new List<(Guid, Guid)>();
        foreach (var group in groups)
        {
            var survivor = group.OrderBy(id => first.GetValueOrDefault(id, DateTimeOffset.MaxValue)).ThenBy(static id => id).First();
            var merged = group.Where(id => id != survivor).ToArray();
            foreach (var m in merged)
            {
                merges.Add((m, survivor));
            }

            await Exec(connection, tx, "update touches set lead_id = $2 where lead_id = any($1)", cancellationToken, merged, survivor);
            await Exec(connection, tx, "update lead_identities set lead_id = $2 where lead_id = any($1)", cancellationToken, merged, survivor);
            await Exec(connection, tx, "update leads set merged_into = $2, updated_at = now(), touch_count = 0 where lead_id = any($1) or merged_into = any($1)",
                cancellationToken, merged, survivor);
            await Exec(connection, tx, "insert into lead_merges (merged_lead_id, survivor_lead_id) select unnest($1::uuid[]), $2 on conflict (merged_lead_id) do nothing",
                cancellationToken, merged, survivor);
            await Exec(connection, tx, $"""
                update leads l set
                    touch_count = (select count(*) from touches where lead_id = $1),
                    first_event_id = f.event_id, first_occurred_at = f.occurred_at, first_channel = f.channel, first_ga4_channel = f.ga4_channel, first_touch = f.summary,
                    latest_event_id = t.event_id, latest_occurred_at = t.occurred_at, latest_channel = t.channel, latest_ga4_channel = t.ga4_channel, latest_touch = t.summary,
                    updated_at = now()
                from ({SummarySelect("touches", "$1", ascending: true)}) f, ({SummarySelect("touches", "$1", ascending: false)}) t
                where l.lead_id = $1
                """, cancellationToken, survivor);
        }

        return merges;
    }

    private static ValueTask WriteNullable(NpgsqlBinaryImporter import, string? value, CancellationToken cancellationToken) =>
        value is null ? new ValueTask(import.WriteNullAsync(cancellationToken)) : new ValueTask(import.WriteAsync(value, NpgsqlDbType.Text, cancellationToken));

    private static async Task Exec(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
