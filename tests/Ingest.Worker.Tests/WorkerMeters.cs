using System.Diagnostics.Metrics;

namespace Ingest.Worker.Tests;

/// <summary>Follows the worker's batch-size and messages-held instruments (in-process hosts) and keeps their largest values.</summary>
internal sealed class WorkerMeters : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _held;
    private long _maxHeld;
    private long _maxBatch;
    private long _batches;

    public WorkerMeters()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name is "ingest.worker.batch.messages" or "ingest.worker.messages.held")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "ingest.worker.batch.messages")
            {
                Interlocked.Increment(ref _batches);
                InterlockedMax(ref _maxBatch, value);
            }
            else
            {
                InterlockedMax(ref _maxHeld, Interlocked.Add(ref _held, value));
            }
        });
        _listener.Start();
    }

    /// <summary>Most messages consumed and not yet stored (or dropped) at any moment.</summary>
    public long MaxHeld => Interlocked.Read(ref _maxHeld);

    /// <summary>Most messages handed to the store in one batch.</summary>
    public long MaxBatch => Interlocked.Read(ref _maxBatch);

    public long Batches => Interlocked.Read(ref _batches);

    public void Dispose() => _listener.Dispose();

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) != current)
        {
            current = Interlocked.Read(ref target);
        }
    }
}
