using Ingest.Core.Identity;
using Ingest.Core.Outcomes;
using Ingest.Storage.Identity;
using Ingest.Storage.Touches;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ingest.Storage.Outcomes;

/// <summary>An outcome read from Kafka: the record and its JSON as received (stored as jsonb).</summary>
public sealed record ReceivedOutcome(OutcomeRecord Record, string Json);

/// <summary>What one outcome batch did.</summary>
public readonly record struct StoredOutcomes(int Stored, int Duplicates, int LeadsCreated);

/// <summary>
/// Stores a batch of outcomes in one transaction, idempotently (event id). Each lead an outcome names is resolved through
/// <c>lead_identities</c>, the system of record, following merges: an explicit <c>lead_id</c> that exists first, else the
/// owner of its strongest known identity (email, phone, external id), else a new lead (a lead row with no touches,
/// which the person's touches join when they arrive, because touch resolution reads unknown keys from Postgres). The
/// outcome's identities nobody owns yet are given to that lead. The chosen leads are share-locked and checked unmerged
/// before the rows are written, so a merge running at the same time either waits for this batch (and then moves its
/// rows) or has committed (and this batch is rewritten against the survivor).
/// </summary>
public sealed partial class OutcomeBatchWriter(NpgsqlDataSource dataSource, ILogger<OutcomeBatchWriter> logger)
{
    private const int MaxAttempts = 5;

    private const string OwnersSql = """
        select i.kind, i.value, coalesce(l.merged_into, i.lead_id)
        from unnest($1::text[], $2::text[]) as k(kind, value)
        join lead_identities i on i.kind = k.kind and i.value = k.value
        join leads l on l.lead_id = i.lead_id
        """;

    /// <summary>Stores the batch (duplicates, by event id, are skipped).</summary>
    public async Task<StoredOutcomes> WriteAsync(IReadOnlyList<ReceivedOutcome> outcomes, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await WriteOnceAsync(outcomes, cancellationToken);
            }
            catch (Exception ex) when (attempt < MaxAttempts && IsRace(ex))
            {
                // Rolled back: another writer stored one of these events or keys, or merged a chosen lead; start again from what is committed.
                LogRaceRetried(logger, attempt, ex.GetType().Name);
            }
        }
    }

    private static bool IsRace(Exception ex) => ex is ResolutionRaceException
        || ex is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure };

    private async Task<StoredOutcomes> WriteOnceAsync(IReadOnlyList<ReceivedOutcome> outcomes, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);

        var fresh = await WithoutStoredAsync(connection, tx, outcomes, cancellationToken);
        if (fresh.Count == 0)
        {
            await tx.CommitAsync(cancellationToken);
            return new StoredOutcomes(0, outcomes.Count, 0);
        }

        var keys = fresh.SelectMany(static o => o.Record.Leads).SelectMany(KeysOf).Distinct().ToList();
        var owners = await OwnersAsync(connection, tx, keys, cancellationToken);
        var explicitIds = fresh.SelectMany(static o => o.Record.Leads).Select(static l => l.LeadId).OfType<Guid>().Distinct().ToArray();
        var existing = await SurvivorsAsync(connection, tx, explicitIds, cancellationToken);

        var created = new HashSet<Guid>();
        var claims = new Dictionary<IdentityKey, Guid>();
        var leadsOf = new List<Guid[]>(fresh.Count);
        foreach (var outcome in fresh)
        {
            var chosen = new List<Guid>(outcome.Record.Leads.Count);
            foreach (var lead in outcome.Record.Leads)
            {
                var leadKeys = KeysOf(lead).ToList();
                Guid id;
                if (lead.LeadId is { } given && existing.TryGetValue(given, out var survivor))
                {
                    id = survivor;
                }
                else if (leadKeys.Select(k => owners.TryGetValue(k, out var owner) ? owner : (Guid?)null).FirstOrDefault(static o => o is not null) is { } owned)
                {
                    id = owned;
                }
                else
                {
                    id = lead.LeadId ?? Uuid7.New();
                    created.Add(id);
                    existing.TryAdd(id, id);
                }

                foreach (var key in leadKeys)
                {
                    if (owners.TryAdd(key, id))
                    {
                        claims[key] = id;
                    }
                }

                if (!chosen.Contains(id))
                {
                    chosen.Add(id);
                }
            }

            leadsOf.Add([.. chosen]);
        }

        if (created.Count > 0)
        {
            await using var insert = new NpgsqlCommand("insert into leads (lead_id) select unnest($1::uuid[]) order by 1 on conflict do nothing", connection, tx);
            insert.Parameters.Add(new NpgsqlParameter { Value = created.Order().ToArray() });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var (key, owner) in await LeadIdentities.ClaimAsync(connection, tx, claims, cancellationToken))
        {
            if (owner != claims[key])
            {
                // Another writer gave this identity a lead between our read and our insert: resolve again.
                throw new ResolutionRaceException();
            }
        }

        await LockUnmergedAsync(connection, tx, leadsOf.SelectMany(static l => l).Distinct().Order().ToArray(), cancellationToken);
        await InsertAsync(connection, tx, fresh, leadsOf, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return new StoredOutcomes(fresh.Count, outcomes.Count - fresh.Count, created.Count);
    }

    /// <summary>The lead's identity keys, strongest first (as <c>lead_identities</c> spells their kinds).</summary>
    private static IEnumerable<IdentityKey> KeysOf(OutcomeLead lead)
    {
        if (lead.Email is not null)
        {
            yield return new IdentityKey("email", lead.Email);
        }

        if (lead.Phone is not null)
        {
            yield return new IdentityKey("phone", lead.Phone);
        }

        if (lead.ExternalId is not null)
        {
            yield return new IdentityKey("external_id", lead.ExternalId);
        }
    }

    private static async Task<List<ReceivedOutcome>> WithoutStoredAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<ReceivedOutcome> outcomes,
        CancellationToken cancellationToken)
    {
        var stored = new HashSet<string>(StringComparer.Ordinal);
        await using (var select = new NpgsqlCommand("select event_id from outcomes where event_id = any($1)", connection, tx))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = outcomes.Select(static o => o.Record.EventId).ToArray() });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                stored.Add(reader.GetString(0));
            }
        }

        // A redelivered event twice in one batch is stored once too.
        return outcomes.Where(o => stored.Add(o.Record.EventId)).ToList();
    }

    private static async Task<Dictionary<IdentityKey, Guid>> OwnersAsync(NpgsqlConnection connection, NpgsqlTransaction tx, List<IdentityKey> keys,
        CancellationToken cancellationToken)
    {
        var owners = new Dictionary<IdentityKey, Guid>();
        await using var select = new NpgsqlCommand(OwnersSql, connection, tx);
        select.Parameters.Add(new NpgsqlParameter { Value = keys.Select(static k => k.Kind).ToArray() });
        select.Parameters.Add(new NpgsqlParameter { Value = keys.Select(static k => k.Value).ToArray() });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            owners[new IdentityKey(reader.GetString(0), reader.GetString(1))] = reader.GetGuid(2);
        }

        return owners;
    }

    private static async Task<Dictionary<Guid, Guid>> SurvivorsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid[] ids, CancellationToken cancellationToken)
    {
        var survivors = new Dictionary<Guid, Guid>();
        if (ids.Length == 0)
        {
            return survivors;
        }

        await using var select = new NpgsqlCommand("select lead_id, coalesce(merged_into, lead_id) from leads where lead_id = any($1)", connection, tx);
        select.Parameters.Add(new NpgsqlParameter { Value = ids });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            survivors[reader.GetGuid(0)] = reader.GetGuid(1);
        }

        return survivors;
    }

    // FOR SHARE conflicts with the merger's FOR UPDATE: a merge of these leads waits for this commit, or has committed and is seen here.
    private static async Task LockUnmergedAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid[] leads, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand("select count(*) from (select merged_into from leads where lead_id = any($1) order by lead_id for share) l where merged_into is not null",
            connection, tx);
        select.Parameters.Add(new NpgsqlParameter { Value = leads });
        if ((long)(await select.ExecuteScalarAsync(cancellationToken))! > 0)
        {
            throw new ResolutionRaceException();
        }
    }

    private static async Task InsertAsync(NpgsqlConnection connection, NpgsqlTransaction tx, List<ReceivedOutcome> fresh, List<Guid[]> leadsOf,
        CancellationToken cancellationToken)
    {
        var n = fresh.Count;
        var eventIds = new string[n];
        var leads = new Guid[n];
        var types = new string[n];
        var occurred = new DateTime[n];
        var received = new DateTime[n];
        var doors = new string[n];
        var systems = new string?[n];
        var owners = new string?[n];
        var stages = new string?[n];
        var deals = new string?[n];
        var amounts = new decimal?[n];
        var currencies = new string?[n];
        var statuses = new string?[n];
        var channels = new string?[n];
        var responders = new string?[n];
        var records = new string[n];
        var linkEvents = new List<string>();
        var linkPositions = new List<int>();
        var linkLeads = new List<Guid>();
        for (var i = 0; i < n; i++)
        {
            var r = fresh[i].Record;
            (eventIds[i], leads[i], types[i], occurred[i], received[i], doors[i]) = (r.EventId, leadsOf[i][0], r.Type, r.OccurredAt.UtcDateTime, r.ReceivedAt.UtcDateTime, r.Door);
            (systems[i], owners[i], stages[i], deals[i], amounts[i], currencies[i]) = (r.SourceSystem, r.Owner, r.Stage, r.DealId, r.Amount, r.Currency);
            (statuses[i], channels[i], responders[i], records[i]) = (r.Status, r.Channel, r.By, fresh[i].Json);
            if (r.Type == OutcomeTypes.Deal)
            {
                for (var p = 0; p < leadsOf[i].Length; p++)
                {
                    linkEvents.Add(r.EventId);
                    linkPositions.Add(p);
                    linkLeads.Add(leadsOf[i][p]);
                }
            }
        }

        await using (var insert = new NpgsqlCommand("""
            insert into outcomes (event_id, lead_id, type, occurred_at, received_at, door, source_system, owner, stage, deal_id, amount, currency, status, channel, responder, record)
            select e, l, t, o, r, d, s, ow, st, de, a, c, su, ch, re, j::jsonb
            from unnest($1::text[], $2::uuid[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                        $11::numeric[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[]) as x(e, l, t, o, r, d, s, ow, st, de, a, c, su, ch, re, j)
            """, connection, tx))
        {
            foreach (var value in new object[] { eventIds, leads, types, occurred, received, doors, systems, owners, stages, deals, amounts, currencies, statuses, channels, responders, records })
            {
                insert.Parameters.Add(new NpgsqlParameter { Value = value });
            }

            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        if (linkEvents.Count > 0)
        {
            await using var links = new NpgsqlCommand("insert into outcome_leads (event_id, position, lead_id) select * from unnest($1::text[], $2::int[], $3::uuid[])", connection, tx);
            links.Parameters.Add(new NpgsqlParameter { Value = linkEvents.ToArray() });
            links.Parameters.Add(new NpgsqlParameter { Value = linkPositions.ToArray() });
            links.Parameters.Add(new NpgsqlParameter { Value = linkLeads.ToArray() });
            await links.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>Another writer changed an identity or merged a lead this batch resolved to; the batch is rewritten.</summary>
    private sealed class ResolutionRaceException() : Exception("An identity or lead changed while the outcome batch resolved it");

    [LoggerMessage(EventId = 4101, Level = LogLevel.Debug, Message = "Outcome batch rewritten after a race with another writer (attempt {Attempt}, {Reason})")]
    private static partial void LogRaceRetried(ILogger logger, int attempt, string reason);
}
