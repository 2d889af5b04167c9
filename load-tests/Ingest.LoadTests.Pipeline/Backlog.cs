namespace Ingest.LoadTests.Pipeline;

/// <summary>
/// Keeps what was sent but not yet stored under a bound, so a phase runs at the highest rate the pipeline sustains
/// instead of piling an unbounded backlog into Kafka (the development broker keeps ~5 MiB per partition).
/// </summary>
internal sealed class Backlog(Func<Task<long>> stored, int limit, TimeSpan poll)
{
    private long _stored;

    /// <summary>Progress from table statistics (cheap; polled every 50 ms).</summary>
    public Backlog(StoreProbe probe, long insertedBefore, int limit)
        : this(async () => await probe.InsertedRowsAsync() - insertedBefore, limit, TimeSpan.FromMilliseconds(50))
    {
    }

    public async Task WaitForRoomAsync(long sent)
    {
        while (sent - _stored > limit)
        {
            await Task.Delay(poll);
            _stored = await stored();
        }
    }
}
