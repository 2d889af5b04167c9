using Ingest.Core.Touches;
using Ingest.Storage.Touches;
using Npgsql;
using StackExchange.Redis;

namespace Ingest.Worker.Identity;

/// <summary>
/// Maps every touch of a batch to a lead in one atomic Redis script: keys already known point at their lead (following
/// merges), a touch whose keys point at several leads joins them into the one with the earliest first touch, and a
/// touch with only new keys gets a new lead. Redis is a cache of Postgres <c>lead_identities</c>: keys Redis does not
/// know are looked up in Postgres first, so a flushed Redis never creates a second lead for a known identity, and
/// Postgres settles any disagreement when the batch is stored (<see cref="TouchBatchWriter"/>).
/// </summary>
public sealed class IdentityResolver(IConnectionMultiplexer redis, NpgsqlDataSource dataSource, string keyPrefix)
{
    // ARGV: prefix, touch count, then per touch: candidate lead id, occurred_at (ms), key count, keys…
    // Returns the lead id chosen for each touch, in order.
    private static readonly LuaScript Script = LuaScript.Prepare("""
        local prefix = ARGV[1]
        local n = tonumber(ARGV[2])
        local pos = 3
        local out = {}
        local function follow(lead)
          for _ = 1, 32 do
            local next = redis.call('GET', prefix .. 'merged:' .. lead)
            if not next then return lead end
            lead = next
          end
          return lead
        end
        for t = 1, n do
          local candidate = ARGV[pos]
          local occurred = tonumber(ARGV[pos + 1])
          local count = tonumber(ARGV[pos + 2])
          pos = pos + 3
          local keys, leads = {}, {}
          for k = 1, count do
            keys[k] = prefix .. 'id:' .. ARGV[pos]
            pos = pos + 1
            local lead = redis.call('GET', keys[k])
            if lead then leads[follow(lead)] = true end
          end
          local survivor, best = nil, nil
          for lead in pairs(leads) do
            local first = tonumber(redis.call('GET', prefix .. 'first:' .. lead) or '9007199254740991')
            if survivor == nil or first < best or (first == best and lead < survivor) then survivor, best = lead, first end
          end
          if survivor == nil then survivor = candidate end
          for lead in pairs(leads) do
            if lead ~= survivor then redis.call('SET', prefix .. 'merged:' .. lead, survivor) end
          end
          for k = 1, count do redis.call('SET', keys[k], survivor) end
          local firstKey = prefix .. 'first:' .. survivor
          local first = tonumber(redis.call('GET', firstKey) or '9007199254740991')
          if occurred < first then redis.call('SET', firstKey, occurred) end
          out[t] = survivor
        end
        return out
        """);

    public async Task<Guid[]> ResolveAsync(IReadOnlyList<TouchRecord> touches, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var keysPerTouch = touches.Select(IdentityKey.Of).ToList();
        var distinct = keysPerTouch.SelectMany(static k => k).Distinct().ToArray();

        // Keys Redis does not know: Postgres may (Redis flushed or restarted). Warm the cache before resolving.
        var cached = await db.StringGetAsync(distinct.Select(k => (RedisKey)(keyPrefix + "id:" + k)).ToArray());
        var missing = distinct.Where((_, i) => cached[i].IsNull).ToArray();
        if (missing.Length > 0)
        {
            await WarmFromPostgresAsync(db, missing, cancellationToken);
        }

        var args = new List<RedisValue>(2 + touches.Count * 6) { keyPrefix, touches.Count };
        for (var i = 0; i < touches.Count; i++)
        {
            args.Add(Guid.CreateVersion7().ToString());
            args.Add(touches[i].OccurredAt.ToUnixTimeMilliseconds());
            args.Add(keysPerTouch[i].Count);
            foreach (var key in keysPerTouch[i])
            {
                args.Add(key.ToString());
            }
        }

        var result = (RedisResult[])(await db.ScriptEvaluateAsync(Script.ExecutableScript, values: args.ToArray()))!;
        return result.Select(static r => Guid.Parse((string)r!)).ToArray();
    }

    /// <summary>After Postgres committed: make Redis agree with it (owners of keys, merged leads).</summary>
    public Task ApplyAsync(StoredBatch stored)
    {
        var db = redis.GetDatabase();
        var batch = db.CreateBatch();
        var pending = new List<Task>(stored.Owners.Count + stored.Merges.Count);
        foreach (var (key, lead) in stored.Owners)
        {
            pending.Add(batch.StringSetAsync(keyPrefix + "id:" + key, lead.ToString()));
        }

        foreach (var (merged, survivor) in stored.Merges)
        {
            pending.Add(batch.StringSetAsync(keyPrefix + "merged:" + merged, survivor.ToString()));
        }

        batch.Execute();
        return Task.WhenAll(pending);
    }

    private async Task WarmFromPostgresAsync(IDatabase db, IdentityKey[] keys, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select i.kind, i.value, coalesce(l.merged_into, i.lead_id)
            from lead_identities i join leads l on l.lead_id = i.lead_id
            join unnest($1::text[], $2::text[]) as k(kind, value) on k.kind = i.kind and k.value = i.value
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = keys.Select(static k => k.Kind).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = keys.Select(static k => k.Value).ToArray() });
        var batch = db.CreateBatch();
        var pending = new List<Task>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var key = new IdentityKey(reader.GetString(0), reader.GetString(1));
                pending.Add(batch.StringSetAsync(keyPrefix + "id:" + key, reader.GetGuid(2).ToString(), when: When.NotExists));
            }
        }

        batch.Execute();
        await Task.WhenAll(pending);
    }
}
