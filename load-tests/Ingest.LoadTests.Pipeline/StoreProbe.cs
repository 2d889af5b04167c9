using System.Diagnostics;
using Npgsql;

namespace Ingest.LoadTests.Pipeline;

/// <summary>What reached Postgres: cheap progress from table statistics, exact checks by event-id range.</summary>
internal sealed class StoreProbe(NpgsqlDataSource db)
{
    /// <summary>Rows ever inserted into <c>touches</c> (statistics: cheap, up to ~1 s behind). Used to bound the backlog.</summary>
    public Task<long> InsertedRowsAsync() => WhileRestartingAsync(async () =>
    {
        await using var select = db.CreateCommand("select coalesce(sum(n_tup_ins), 0)::bigint from pg_stat_user_tables where relname = 'touches'");
        return (long)(await select.ExecuteScalarAsync())!;
    });

    // The chaos run restarts Postgres under the probe: a progress read waits for it (at most a minute) instead of failing the run.
    private static async Task<T> WhileRestartingAsync<T>(Func<Task<T>> read)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await read();
            }
            catch (NpgsqlException) when (attempt < 120)
            {
                await Task.Delay(500);
            }
        }
    }

    /// <summary>Waits until the run's stored touches reach <paramref name="expected"/>, or stop growing for 30 s.</summary>
    public async Task<bool> WaitForAsync(string run, long insertedBefore, int expected, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        long last = -1;
        var lastChange = clock.Elapsed;
        while (clock.Elapsed < limit)
        {
            // Statistics first (no scan); the exact count only once they say the run should be complete.
            var inserted = await InsertedRowsAsync() - insertedBefore;
            if (inserted >= expected && await CountAsync(run) >= expected)
            {
                return true;
            }

            if (inserted != last)
            {
                last = inserted;
                lastChange = clock.Elapsed;
            }
            else if (clock.Elapsed - lastChange > TimeSpan.FromSeconds(30))
            {
                return await CountAsync(run) >= expected;
            }

            await Task.Delay(250);
        }

        return false;
    }

    public Task<long> CountAsync(string run) => WhileRestartingAsync(async () =>
    {
        await using var count = db.CreateCommand("select count(*) from touches where event_id >= $1 and event_id < $2");
        AddRange(count, run);
        return (long)(await count.ExecuteScalarAsync())!;
    });

    /// <summary>Rows stored for the run, distinct event ids, acknowledged ids missing, and when the last row committed.</summary>
    /// <param name="missingSample">When given, receives up to ten of the missing ids.</param>
    public async Task<(long Stored, long Distinct, int Missing, DateTimeOffset LastCommit)> VerifyAsync(string run, HashSet<string> acked, List<string>? missingSample = null)
    {
        var seen = new Dictionary<string, int>(acked.Count);
        await using (var select = db.CreateCommand("select event_id from touches where event_id >= $1 and event_id < $2"))
        {
            AddRange(select, run);
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var id = reader.GetString(0);
                seen[id] = seen.GetValueOrDefault(id) + 1;
            }
        }

        DateTimeOffset last;
        await using (var commit = db.CreateCommand("select max(pg_xact_commit_timestamp(xmin)) from touches where event_id >= $1 and event_id < $2"))
        {
            AddRange(commit, run);
            last = await commit.ExecuteScalarAsync() is DateTime t ? new DateTimeOffset(t, TimeSpan.Zero) : DateTimeOffset.MinValue;
        }

        var stored = seen.Values.Sum(static v => (long)v);
        missingSample?.AddRange(acked.Where(id => !seen.ContainsKey(id)).Order(StringComparer.Ordinal).Take(10));
        return (stored, seen.Count, acked.Count(id => !seen.ContainsKey(id)), last);
    }

    /// <summary>Percentile of (commit time of the row's transaction − time the collector received the touch).</summary>
    public async Task<double> LagPercentileMsAsync(string run, double percentile)
    {
        await using var select = db.CreateCommand("""
            select percentile_cont($3) within group (order by extract(epoch from (pg_xact_commit_timestamp(xmin) - received_at)) * 1000)
            from touches where event_id >= $1 and event_id < $2
            """);
        AddRange(select, run);
        select.Parameters.AddWithValue(percentile);
        return await select.ExecuteScalarAsync() is double value ? value : double.NaN;
    }

    // Event ids of a run all start with "<run>-": a range scan of the primary key (byte-wise collation).
    private static void AddRange(NpgsqlCommand command, string run)
    {
        command.Parameters.AddWithValue(run + "-");
        command.Parameters.AddWithValue(run + ".");
    }
}
