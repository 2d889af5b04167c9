using Ingest.Storage.Identity;
using Ingest.Storage.Leads;
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

        await LeadIdentities.InsertNewAsync(connection, created, cancellationToken);
        foreach (var (key, owner) in await LeadIdentities.ClaimAsync(connection, tx, claimed, cancellationToken))
        {
            owners[key] = owner;
        }

        // A touch whose lead and keys' owners differ joins them all into one lead.
        var (survivors, merges) = await LeadMerger.MergeAsync(connection, tx, fresh, owners, cancellationToken);

        Guid LeadOf(Guid lead) => survivors.GetValueOrDefault(lead, lead);

        await LeadUpsert.UpsertAsync(connection, tx, fresh, LeadOf, cancellationToken);

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
}
