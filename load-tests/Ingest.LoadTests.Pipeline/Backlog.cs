using System.Diagnostics;

namespace Ingest.LoadTests.Pipeline;

/// <summary>
/// Keeps what was acknowledged but not yet stored under a bound, so a phase runs at the highest rate the pipeline
/// sustains instead of piling an unbounded backlog into Kafka (the development broker keeps ~5 MiB per partition).
/// Bounded in time too: when the store makes no progress for <c>stall</c> while the backlog is full, the wait gives up
/// with <see cref="BacklogStalledException"/> instead of waiting for ever.
/// </summary>
internal sealed class Backlog(Func<Task<long>> stored, int limit, TimeSpan poll, TimeSpan? stall = null)
{
    private readonly TimeSpan _stall = stall ?? TimeSpan.FromMinutes(3);
    private long _stored;

    /// <summary>Progress from table statistics (cheap; polled every 50 ms).</summary>
    public Backlog(StoreProbe probe, long insertedBefore, int limit)
        : this(async () => await probe.InsertedRowsAsync() - insertedBefore, limit, TimeSpan.FromMilliseconds(50))
    {
    }

    /// <summary>Waits until <paramref name="outstanding"/> (touches handed over so far) minus those stored is within the bound.</summary>
    public async Task WaitForRoomAsync(long outstanding)
    {
        var progressAt = Stopwatch.GetTimestamp();
        var seen = _stored;
        while (outstanding - _stored > limit)
        {
            await Task.Delay(poll);
            _stored = await stored();
            if (_stored != seen)
            {
                (seen, progressAt) = (_stored, Stopwatch.GetTimestamp());
            }
            else if (Stopwatch.GetElapsedTime(progressAt) > _stall)
            {
                throw new BacklogStalledException(outstanding - _stored, _stall);
            }
        }
    }
}

/// <summary>The store stopped making progress with the backlog full: the touches it holds may be lost.</summary>
internal sealed class BacklogStalledException(long unstored, TimeSpan stall)
    : Exception($"{unstored} touches handed over but not stored, and no progress for {stall.TotalSeconds:F0} s")
{
    public long Unstored => unstored;
}
