namespace Ingest.LoadTests.Pipeline;

/// <summary>
/// Keeps what was sent but not yet stored under a bound, so a phase runs at the highest rate the pipeline sustains
/// instead of piling an unbounded backlog into Kafka (the development broker keeps ~5 MiB per partition).
/// </summary>
internal sealed class Backlog(StoreProbe probe, long insertedBefore, int limit)
{
    private long _stored;

    public async Task WaitForRoomAsync(long sent)
    {
        while (sent - _stored > limit)
        {
            await Task.Delay(50);
            _stored = await probe.InsertedRowsAsync() - insertedBefore;
        }
    }
}
