using Ingest.Core.Identity;
using Ingest.Storage.Identity;
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
/// <para>
/// A key's value is its lead id once a committed batch has confirmed it in Postgres, and <c>~</c> + lead id while only
/// resolution has assigned it. The script reports which it saw (<see cref="KeyState"/>), so the writer verifies in
/// Postgres only keys that are new or unconfirmed; <see cref="ConfirmAsync"/> marks them confirmed after the commit.
/// </para>
/// </summary>
public sealed class IdentityResolver(IConnectionMultiplexer redis, NpgsqlDataSource dataSource, string keyPrefix)
{
    // ARGV: prefix, touch count, then per touch: candidate lead id, key count, keys…
    // Returns per touch "<lead>:<states>", one state letter per key: c(onfirmed), p(ending), n(ew).
    // Keys pointing at several leads join them: Redis keeps the oldest lead (UUIDv7 ids sort by creation time) and
    // Postgres, which knows first touches, settles the survivor when the batch is stored; Confirm then follows it.
    private static readonly LuaScript Resolve = LuaScript.Prepare("""
        local prefix = ARGV[1]
        local n = tonumber(ARGV[2])
        local pos = 3
        local out = {}
        local followed = {}
        local function follow(lead)
          local known = followed[lead]
          if known then return known end
          local current = lead
          for _ = 1, 32 do
            local next = redis.call('GET', prefix .. 'merged:' .. current)
            if not next then break end
            current = next
          end
          followed[lead] = current
          return current
        end
        for t = 1, n do
          local candidate = ARGV[pos]
          local count = tonumber(ARGV[pos + 1])
          pos = pos + 2
          local keys, owners, states = {}, {}, {}
          local survivor = nil
          for k = 1, count do
            keys[k] = prefix .. 'id:' .. ARGV[pos]
            pos = pos + 1
            local value = redis.call('GET', keys[k])
            if not value then
              states[k] = 'n'
            else
              if string.byte(value, 1) == 126 then
                states[k] = 'p'
                value = string.sub(value, 2)
              else
                states[k] = 'c'
              end
              local owner = follow(value)
              owners[k] = owner
              if survivor == nil or owner < survivor then survivor = owner end
            end
          end
          if survivor == nil then survivor = candidate end
          for k = 1, count do
            local owner = owners[k]
            if owner ~= survivor then
              if owner then
                redis.call('SET', prefix .. 'merged:' .. owner, survivor)
                followed = {}
                if states[k] == 'c' then states[k] = 'p' end
              end
              redis.call('SET', keys[k], '~' .. survivor)
            end
          end
          out[t] = survivor .. ':' .. table.concat(states)
        end
        return out
        """);

    // ARGV: prefix, key count, then per key: key, lead resolution proposed, owner Postgres committed; then merge
    // count and per merge: merged lead, survivor. A key is confirmed only if no later resolution re-pointed it.
    private static readonly LuaScript Confirm = LuaScript.Prepare("""
        local prefix = ARGV[1]
        local n = tonumber(ARGV[2])
        local pos = 3
        for _ = 1, n do
          local key = prefix .. 'id:' .. ARGV[pos]
          local value = redis.call('GET', key)
          if not value or value == '~' .. ARGV[pos + 1] or value == ARGV[pos + 1] then redis.call('SET', key, ARGV[pos + 2]) end
          pos = pos + 3
        end
        local m = tonumber(ARGV[pos])
        pos = pos + 1
        for _ = 1, m do
          redis.call('SET', prefix .. 'merged:' .. ARGV[pos], ARGV[pos + 1])
          redis.call('DEL', prefix .. 'merged:' .. ARGV[pos + 1])
          pos = pos + 2
        end
        return n
        """);

    /// <summary>Sets <see cref="ResolvedTouch.LeadId"/> and <see cref="ResolvedTouch.KeyStates"/> of every touch of the batch.</summary>
    public async Task ResolveAsync(IReadOnlyList<ResolvedTouch> touches, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var distinct = new HashSet<IdentityKey>();
        foreach (var touch in touches)
        {
            distinct.UnionWith(touch.Keys);
        }

        // Keys Redis does not know: Postgres may (Redis flushed or restarted). Warm the cache before resolving.
        var keys = distinct.ToArray();
        var cached = await db.StringGetAsync(keys.Select(k => (RedisKey)(keyPrefix + "id:" + k)).ToArray());
        var missing = keys.Where((_, i) => cached[i].IsNull).ToArray();
        if (missing.Length > 0)
        {
            await WarmFromPostgresAsync(db, missing, cancellationToken);
        }

        var args = new List<RedisValue>(2 + touches.Count * 5) { keyPrefix, touches.Count };
        foreach (var touch in touches)
        {
            args.Add(Uuid7.New().ToString());
            args.Add(touch.Keys.Count);
            foreach (var key in touch.Keys)
            {
                args.Add(key.ToString());
            }
        }

        var result = (RedisResult[])(await db.ScriptEvaluateAsync(Resolve.ExecutableScript, values: args.ToArray()))!;
        for (var i = 0; i < touches.Count; i++)
        {
            var text = (string)result[i]!;
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            var touch = touches[i];
            touch.LeadId = Guid.Parse(text.AsSpan(0, colon));
            var states = new KeyState[touch.Keys.Count];
            for (var k = 0; k < states.Length; k++)
            {
                states[k] = text[colon + 1 + k] switch
                {
                    'c' => KeyState.Confirmed,
                    'n' => KeyState.New,
                    _ => KeyState.Pending,
                };
            }

            touch.KeyStates = states;
        }
    }

    /// <summary>After Postgres committed: confirm the keys it stored or verified, and record its merges.</summary>
    public async Task ConfirmAsync(StoredBatch stored)
    {
        if (stored.Confirmed.Count == 0 && stored.Merges.Count == 0)
        {
            return;
        }

        var args = new List<RedisValue>(3 + stored.Confirmed.Count * 3 + stored.Merges.Count * 2) { keyPrefix, stored.Confirmed.Count };
        foreach (var (key, proposed, owner) in stored.Confirmed)
        {
            args.Add(key.ToString());
            args.Add(proposed.ToString());
            args.Add(owner.ToString());
        }

        args.Add(stored.Merges.Count);
        foreach (var (merged, survivor) in stored.Merges)
        {
            args.Add(merged.ToString());
            args.Add(survivor.ToString());
        }

        await redis.GetDatabase().ScriptEvaluateAsync(Confirm.ExecutableScript, values: args.ToArray());
    }

    private async Task WarmFromPostgresAsync(IDatabase db, IdentityKey[] keys, CancellationToken cancellationToken)
    {
        var owners = await LeadIdentities.OwnersAsync(dataSource, keys, cancellationToken);
        var batch = db.CreateBatch();
        var pending = new List<Task>(owners.Count);
        foreach (var (key, owner) in owners)
        {
            pending.Add(batch.StringSetAsync(keyPrefix + "id:" + key, owner.ToString(), when: When.NotExists));
        }

        batch.Execute();
        await Task.WhenAll(pending);
    }
}
