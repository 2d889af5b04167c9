using Npgsql;

namespace Ingest.Storage.Touches;

/// <summary>
/// Writes one batch in one transaction, in as few statements as the semantics allow (each measured, see
/// load-tests/RESULTS.md): touches already stored are set aside (the event id is the idempotency key); identity keys
/// are inserted, and keys already owned by another lead merge the two into the lead with the earlier first touch;
/// leads are upserted once each with the batch's count, earliest and latest touch (first touch only moves earlier,
/// latest only later); the new touches are binary-COPYed straight into <c>touches</c>.
/// </summary>
public sealed class TouchBatchWriter(NpgsqlDataSource dataSource)
{
    // A concurrent writer can store one of our event ids between the check and the COPY (a redelivered batch racing
    // its first delivery), or merge a lead resolution chose; each retry starts from what is committed then.
    private const int MaxAttempts = 5;

    /// <summary>Stores the batch; its touches must carry distinct event ids.</summary>
    public async Task<StoredBatch> WriteAsync(IReadOnlyList<ResolvedTouch> touches, CancellationToken cancellationToken)
    {
        var verifyAll = false;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await WriteOnceAsync(touches, verifyAll, cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.TableName == "touches" && attempt < MaxAttempts)
            {
                // Rolled back; the next attempt sees the other writer's rows and skips them.
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.TableName == "lead_identities" && attempt < MaxAttempts)
            {
                // A key resolution saw as new was stored meanwhile by another writer (Redis lost its pending mark, e.g.
                // flushed): claim every key instead of inserting it.
                verifyAll = true;
            }
            catch (StaleResolutionException stale) when (attempt < MaxAttempts)
            {
                // Resolution chose leads that were merged meanwhile: move those touches to the survivors and write again.
                foreach (var touch in touches)
                {
                    if (stale.Survivors.TryGetValue(touch.LeadId, out var survivor))
                    {
                        touch.LeadId = survivor;
                    }
                }
            }
        }
    }

    private async Task<StoredBatch> WriteOnceAsync(IReadOnlyList<ResolvedTouch> touches, bool verifyAll, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);

        var fresh = await WithoutStoredAsync(connection, tx, touches, cancellationToken);
        if (fresh.Count == 0)
        {
            await tx.CommitAsync(cancellationToken);
            return StoredBatch.OnlyDuplicates(touches.Count);
        }

        // Identities, by what resolution knew of them (at the key's first touch in the batch): new keys are inserted as
        // they are, unconfirmed ones claimed (Postgres may own them already), confirmed ones need nothing.
        var proposed = new Dictionary<IdentityKey, (Guid Lead, KeyState State)>();
        foreach (var touch in fresh)
        {
            for (var k = 0; k < touch.Keys.Count; k++)
            {
                var state = touch.StateOf(k);
                proposed.TryAdd(touch.Keys[k], (touch.LeadId, verifyAll && state == KeyState.New ? KeyState.Pending : state));
            }
        }

        var owners = new Dictionary<IdentityKey, Guid>(proposed.Count);
        var created = new List<(IdentityKey Key, Guid Lead)>();
        var claimed = new Dictionary<IdentityKey, Guid>();
        foreach (var (key, (lead, state)) in proposed)
        {
            owners[key] = lead;
            if (state == KeyState.New)
            {
                created.Add((key, lead));
            }
            else if (state == KeyState.Pending)
            {
                claimed[key] = lead;
            }
        }

        await InsertIdentitiesAsync(connection, created, cancellationToken);
        foreach (var (key, owner) in await ClaimIdentitiesAsync(connection, tx, claimed, cancellationToken))
        {
            owners[key] = owner;
        }

        // A touch whose lead and keys' owners differ joins them all into one lead.
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
            var (survivor, merged) = await MergeAsync(connection, tx, group, fresh, cancellationToken);
            foreach (var lead in group)
            {
                survivors[lead] = survivor;
            }

            merges.AddRange(merged.Select(m => (m, survivor)));
        }

        Guid LeadOf(Guid lead) => survivors.GetValueOrDefault(lead, lead);

        await UpsertLeadsAsync(connection, tx, fresh, LeadOf, cancellationToken);

        await using (var import = await TouchRows.BeginImportAsync(connection, "touches", cancellationToken))
        {
            foreach (var touch in fresh)
            {
                await TouchRows.WriteAsync(import, touch.Record, LeadOf(touch.LeadId), touch.RecordJson, cancellationToken);
            }

            await import.CompleteAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);

        var confirmed = new List<ConfirmedKey>(created.Count + claimed.Count);
        foreach (var (key, lead) in created)
        {
            confirmed.Add(new ConfirmedKey(key, lead, LeadOf(owners[key])));
        }

        foreach (var (key, lead) in claimed)
        {
            confirmed.Add(new ConfirmedKey(key, lead, LeadOf(owners[key])));
        }

        return new StoredBatch(fresh.Count, touches.Count - fresh.Count, confirmed, merges);
    }

    /// <summary>Keys nobody knew: binary COPY (a key stored meanwhile by another writer fails the batch, which then claims them).</summary>
    private static async Task InsertIdentitiesAsync(NpgsqlConnection connection, List<(IdentityKey Key, Guid Lead)> created, CancellationToken cancellationToken)
    {
        if (created.Count == 0)
        {
            return;
        }

        await using var import = await connection.BeginBinaryImportAsync("copy lead_identities (kind, value, lead_id) from stdin (format binary)", cancellationToken);
        foreach (var (key, lead) in created)
        {
            await import.StartRowAsync(cancellationToken);
            await import.WriteAsync(key.Kind, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
            await import.WriteAsync(key.Value, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
            await import.WriteAsync(lead, NpgsqlTypes.NpgsqlDbType.Uuid, cancellationToken);
        }

        await import.CompleteAsync(cancellationToken);
    }

    /// <summary>The touches whose event id is not stored yet (one primary-key probe each).</summary>
    private static async Task<List<ResolvedTouch>> WithoutStoredAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<ResolvedTouch> touches,
        CancellationToken cancellationToken)
    {
        var ids = new string[touches.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = touches[i].Record.EventId;
        }

        var stored = new HashSet<string>(StringComparer.Ordinal);
        await using (var select = new NpgsqlCommand("select event_id from touches where event_id = any($1)", connection, tx))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = ids });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                stored.Add(reader.GetString(0));
            }
        }

        return stored.Count == 0 ? [.. touches] : touches.Where(t => !stored.Contains(t.Record.EventId)).ToList();
    }

    /// <summary>
    /// Inserts the keys Postgres does not know (owned by the proposed lead) and reads the owner of the others,
    /// following a merged owner to its survivor.
    /// </summary>
    private static async Task<Dictionary<IdentityKey, Guid>> ClaimIdentitiesAsync(NpgsqlConnection connection, NpgsqlTransaction tx,
        Dictionary<IdentityKey, Guid> proposed, CancellationToken cancellationToken)
    {
        var count = proposed.Count;
        var owners = new Dictionary<IdentityKey, Guid>(count);
        if (count == 0)
        {
            return owners;
        }

        var kinds = new string[count];
        var values = new string[count];
        var leads = new Guid[count];
        var i = 0;
        foreach (var (key, lead) in proposed)
        {
            (kinds[i], values[i], leads[i]) = (key.Kind, key.Value, lead);
            i++;
        }

        await using (var insert = new NpgsqlCommand("""
            insert into lead_identities (kind, value, lead_id)
            select * from unnest($1::text[], $2::text[], $3::uuid[]) order by 1, 2
            on conflict (kind, value) do nothing
            returning kind, value
            """, connection, tx))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = kinds });
            insert.Parameters.Add(new NpgsqlParameter { Value = values });
            insert.Parameters.Add(new NpgsqlParameter { Value = leads });
            await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var key = new IdentityKey(reader.GetString(0), reader.GetString(1));
                owners[key] = proposed[key];
            }
        }

        if (owners.Count == count)
        {
            return owners;
        }

        var known = proposed.Keys.Where(k => !owners.ContainsKey(k)).ToArray();
        await using (var select = new NpgsqlCommand("""
            select i.kind, i.value, coalesce(l.merged_into, i.lead_id)
            from unnest($1::text[], $2::text[]) as k(kind, value)
            join lead_identities i on i.kind = k.kind and i.value = k.value
            join leads l on l.lead_id = i.lead_id
            """, connection, tx))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = known.Select(static k => k.Kind).ToArray() });
            select.Parameters.Add(new NpgsqlParameter { Value = known.Select(static k => k.Value).ToArray() });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                owners[new IdentityKey(reader.GetString(0), reader.GetString(1))] = reader.GetGuid(2);
            }
        }

        foreach (var key in known)
        {
            // Owned by a lead another writer is creating right now (its row is checked at that writer's commit).
            owners.TryAdd(key, proposed[key]);
        }

        return owners;
    }

    /// <summary>
    /// One upsert for every lead of the batch: the count of its new touches is added, its first touch moves only to an
    /// earlier one and its latest only to a later one (ties broken by event id, so the outcome never depends on the
    /// order batches arrive in). A lead found merged means resolution was stale: the caller writes again.
    /// </summary>
    private static async Task UpsertLeadsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, List<ResolvedTouch> fresh, Func<Guid, Guid> leadOf,
        CancellationToken cancellationToken)
    {
        var deltas = new Dictionary<Guid, LeadDelta>();
        foreach (var touch in fresh)
        {
            var lead = leadOf(touch.LeadId);
            if (deltas.TryGetValue(lead, out var delta))
            {
                delta.Add(touch);
            }
            else
            {
                deltas[lead] = new LeadDelta(touch);
            }
        }

        var n = deltas.Count;
        var ids = new Guid[n];
        var counts = new int[n];
        var firstIds = new string[n];
        var firstAt = new DateTime[n];
        var firstChannels = new string[n];
        var firstGa4 = new string[n];
        var latestIds = new string[n];
        var latestAt = new DateTime[n];
        var latestChannels = new string[n];
        var latestGa4 = new string[n];
        var i = 0;
        foreach (var (lead, delta) in deltas.OrderBy(static d => d.Key))
        {
            ids[i] = lead;
            counts[i] = delta.Count;
            (firstIds[i], firstAt[i], firstChannels[i], firstGa4[i]) = Columns(delta.First);
            (latestIds[i], latestAt[i], latestChannels[i], latestGa4[i]) = Columns(delta.Latest);
            i++;
        }

        var updated = new HashSet<Guid>(n);
        await using (var upsert = new NpgsqlCommand($"""
            insert into leads as l (lead_id, touch_count, first_event_id, first_occurred_at, first_channel, first_ga4_channel,
                                    latest_event_id, latest_occurred_at, latest_channel, latest_ga4_channel)
            select * from unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::text[], $10::text[])
            on conflict (lead_id) do update set
                touch_count = l.touch_count + excluded.touch_count,
                updated_at = now(),
                first_event_id     = case when {Earlier} then excluded.first_event_id else l.first_event_id end,
                first_channel      = case when {Earlier} then excluded.first_channel else l.first_channel end,
                first_ga4_channel  = case when {Earlier} then excluded.first_ga4_channel else l.first_ga4_channel end,
                first_occurred_at  = case when {Earlier} then excluded.first_occurred_at else l.first_occurred_at end,
                latest_event_id    = case when {Later} then excluded.latest_event_id else l.latest_event_id end,
                latest_channel     = case when {Later} then excluded.latest_channel else l.latest_channel end,
                latest_ga4_channel = case when {Later} then excluded.latest_ga4_channel else l.latest_ga4_channel end,
                latest_occurred_at = case when {Later} then excluded.latest_occurred_at else l.latest_occurred_at end
            where l.merged_into is null
            returning l.lead_id
            """, connection, tx))
        {
            foreach (var array in new object[] { ids, counts, firstIds, firstAt, firstChannels, firstGa4, latestIds, latestAt, latestChannels, latestGa4 })
            {
                upsert.Parameters.Add(new NpgsqlParameter { Value = array });
            }

            await using var reader = await upsert.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                updated.Add(reader.GetGuid(0));
            }
        }

        if (updated.Count < n)
        {
            throw new StaleResolutionException(await SurvivorsOfAsync(connection, tx, ids.Where(id => !updated.Contains(id)).ToArray(), cancellationToken));
        }

        static (string, DateTime, string, string) Columns(ResolvedTouch t) =>
            (t.Record.EventId, t.Record.OccurredAt.UtcDateTime, t.Record.Attribution.Channel, t.Record.Attribution.Ga4Channel);
    }

    private const string Earlier =
        "(l.first_occurred_at is null or (excluded.first_occurred_at, excluded.first_event_id) < (l.first_occurred_at, l.first_event_id))";

    private const string Later =
        "(l.latest_occurred_at is null or (excluded.latest_occurred_at, excluded.latest_event_id) > (l.latest_occurred_at, l.latest_event_id))";

    private static async Task<Dictionary<Guid, Guid>> SurvivorsOfAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid[] merged,
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
    /// Joins a group of leads into the one with the earliest first touch (this batch's touches count): touches and
    /// identities move to the survivor, the others point at it, the merge is recorded, and the survivor's first and
    /// latest touch and count are recomputed from its stored touches (the batch's own are added by the upsert).
    /// Returns the survivor and the stored leads merged into it.
    /// </summary>
    private static async Task<(Guid Survivor, Guid[] Merged)> MergeAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid[] group,
        List<ResolvedTouch> fresh, CancellationToken cancellationToken)
    {
        var firsts = new Dictionary<Guid, (DateTimeOffset At, string EventId)>();
        var stale = new Dictionary<Guid, Guid>();
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
                else if (!reader.IsDBNull(1))
                {
                    firsts[lead] = (reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2));
                }
            }
        }

        if (stale.Count > 0)
        {
            throw new StaleResolutionException(stale);
        }

        var stored = firsts.Keys.ToHashSet();
        foreach (var touch in fresh)
        {
            var candidate = (touch.Record.OccurredAt, touch.Record.EventId);
            if (Array.IndexOf(group, touch.LeadId) >= 0 && (!firsts.TryGetValue(touch.LeadId, out var known) || LeadDelta.Before(candidate, known)))
            {
                firsts[touch.LeadId] = candidate;
            }
        }

        var survivor = group
            .OrderBy(id => firsts.TryGetValue(id, out var f) ? f : (DateTimeOffset.MaxValue, ""), LeadDelta.FirstTouchOrder)
            .ThenBy(static id => id)
            .First();
        var merged = group.Where(id => id != survivor).ToArray();
        var storedMerged = merged.Where(stored.Contains).ToArray();

        await Exec(connection, tx, "insert into leads (lead_id) values ($1) on conflict do nothing", cancellationToken, survivor);
        await Exec(connection, tx, "update touches set lead_id = $2 where lead_id = any($1)", cancellationToken, merged, survivor);
        await Exec(connection, tx, "update lead_identities set lead_id = $2 where lead_id = any($1)", cancellationToken, merged, survivor);
        await Exec(connection, tx, "update leads set merged_into = $2, updated_at = now(), touch_count = 0 where lead_id = any($1) or merged_into = any($1)",
            cancellationToken, merged, survivor);
        await Exec(connection, tx, "insert into lead_merges (merged_lead_id, survivor_lead_id) select unnest($1::uuid[]), $2 on conflict (merged_lead_id) do nothing",
            cancellationToken, storedMerged, survivor);
        await Exec(connection, tx, """
            update leads l set
                touch_count = (select count(*) from touches where lead_id = $1),
                first_event_id = f.event_id, first_occurred_at = f.occurred_at, first_channel = f.channel, first_ga4_channel = f.ga4_channel,
                latest_event_id = t.event_id, latest_occurred_at = t.occurred_at, latest_channel = t.channel, latest_ga4_channel = t.ga4_channel,
                updated_at = now()
            from (select 1) one
            left join lateral (select event_id, occurred_at, channel, ga4_channel from touches where lead_id = $1 order by occurred_at, event_id limit 1) f on true
            left join lateral (select event_id, occurred_at, channel, ga4_channel from touches where lead_id = $1 order by occurred_at desc, event_id desc limit 1) t on true
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

    /// <summary>The batch's contribution to one lead: how many new touches, the earliest and the latest.</summary>
    private sealed class LeadDelta(ResolvedTouch touch)
    {
        public int Count { get; private set; } = 1;
        public ResolvedTouch First { get; private set; } = touch;
        public ResolvedTouch Latest { get; private set; } = touch;

        public void Add(ResolvedTouch touch)
        {
            Count++;
            var candidate = (touch.Record.OccurredAt, touch.Record.EventId);
            if (Before(candidate, (First.Record.OccurredAt, First.Record.EventId)))
            {
                First = touch;
            }

            if (Before((Latest.Record.OccurredAt, Latest.Record.EventId), candidate))
            {
                Latest = touch;
            }
        }

        /// <summary>Orders touches as Postgres does: by time, then by event id byte-wise (the column's "C" collation).</summary>
        public static readonly IComparer<(DateTimeOffset At, string EventId)> FirstTouchOrder =
            Comparer<(DateTimeOffset At, string EventId)>.Create(static (a, b) =>
            {
                var byTime = a.At.CompareTo(b.At);
                return byTime != 0 ? byTime : CompareCodePoints(a.EventId, b.EventId);
            });

        public static bool Before((DateTimeOffset At, string EventId) a, (DateTimeOffset At, string EventId) b) => FirstTouchOrder.Compare(a, b) < 0;

        // UTF-8 byte order is code point order; UTF-16 ordinal order differs from it only beyond the BMP.
        private static int CompareCodePoints(string a, string b)
        {
            var x = a.EnumerateRunes();
            var y = b.EnumerateRunes();
            while (true)
            {
                var (hasX, hasY) = (x.MoveNext(), y.MoveNext());
                if (!hasX || !hasY)
                {
                    return hasX.CompareTo(hasY);
                }

                var byRune = x.Current.Value.CompareTo(y.Current.Value);
                if (byRune != 0)
                {
                    return byRune;
                }
            }
        }
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

/// <summary>Resolution chose leads that Postgres has merged into others meanwhile; maps each to its survivor.</summary>
public sealed class StaleResolutionException(Dictionary<Guid, Guid> survivors)
    : Exception($"{survivors.Count} lead(s) chosen by identity resolution were merged meanwhile")
{
    public IReadOnlyDictionary<Guid, Guid> Survivors { get; } = survivors;
}
