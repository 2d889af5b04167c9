using Ingest.Storage.Touches;
using Npgsql;

namespace Ingest.Storage.Identity;

/// <summary>The <c>lead_identities</c> table: which lead owns each identity key, a merged owner followed to its survivor.</summary>
public static class LeadIdentities
{
    private const string OwnersSql = """
        select i.kind, i.value, coalesce(l.merged_into, i.lead_id)
        from unnest($1::text[], $2::text[]) as k(kind, value)
        join lead_identities i on i.kind = k.kind and i.value = k.value
        join leads l on l.lead_id = i.lead_id
        """;

    /// <summary>The owners Postgres has committed for <paramref name="keys"/> (keys it does not know are absent).</summary>
    public static Task<List<(IdentityKey Key, Guid Owner)>> OwnersAsync(NpgsqlDataSource dataSource, IReadOnlyCollection<IdentityKey> keys,
        CancellationToken cancellationToken) =>
        ReadOwnersAsync(dataSource.CreateCommand(OwnersSql), keys, cancellationToken);

    /// <summary>Keys nobody knew: binary COPY (a key stored meanwhile by another writer fails the batch, which then claims them).</summary>
    internal static async Task InsertNewAsync(NpgsqlConnection connection, List<(IdentityKey Key, Guid Lead)> created, CancellationToken cancellationToken)
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

    /// <summary>
    /// Inserts the keys Postgres does not know (owned by the proposed lead) and reads the owner of the others,
    /// following a merged owner to its survivor.
    /// </summary>
    internal static async Task<Dictionary<IdentityKey, Guid>> ClaimAsync(NpgsqlConnection connection, NpgsqlTransaction tx,
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
        foreach (var (key, owner) in await ReadOwnersAsync(new NpgsqlCommand(OwnersSql, connection, tx), known, cancellationToken))
        {
            owners[key] = owner;
        }

        foreach (var key in known)
        {
            // Owned by a lead another writer is creating right now (its row is checked at that writer's commit).
            owners.TryAdd(key, proposed[key]);
        }

        return owners;
    }

    private static async Task<List<(IdentityKey Key, Guid Owner)>> ReadOwnersAsync(NpgsqlCommand command, IReadOnlyCollection<IdentityKey> keys,
        CancellationToken cancellationToken)
    {
        await using (command)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = keys.Select(static k => k.Kind).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = keys.Select(static k => k.Value).ToArray() });
            var owners = new List<(IdentityKey, Guid)>(keys.Count);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                owners.Add((new IdentityKey(reader.GetString(0), reader.GetString(1)), reader.GetGuid(2)));
            }

            return owners;
        }
    }
}
