using System.Diagnostics.Metrics;
using Ingest.ServiceDefaults;

namespace Ingest.Worker;

/// <summary>Worker metrics: touches stored and deduplicated, merges, dead letters, retries, batch duration.</summary>
public sealed class WorkerMetrics
{
    private readonly Counter<long> _stored;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _merges;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _retries;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<long> _batchMessages;
    private readonly UpDownCounter<long> _held;

    public WorkerMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(ServiceDefaultsExtensions.TelemetryName);
        _stored = meter.CreateCounter<long>("ingest.worker.touches.stored", "{touch}");
        _duplicates = meter.CreateCounter<long>("ingest.worker.touches.duplicates", "{touch}");
        _merges = meter.CreateCounter<long>("ingest.worker.leads.merged", "{lead}");
        _deadLettered = meter.CreateCounter<long>("ingest.worker.dead_lettered", "{message}");
        _retries = meter.CreateCounter<long>("ingest.worker.store.retries", "{retry}");
        _batchDuration = meter.CreateHistogram<double>("ingest.worker.batch.duration", "ms");
        _batchMessages = meter.CreateHistogram<long>("ingest.worker.batch.messages", "{message}");
        _held = meter.CreateUpDownCounter<long>("ingest.worker.messages.held", "{message}");
    }

    /// <summary>One transaction committed: touches inserted, event ids already stored, leads merged.</summary>
    public void Stored(int inserted, int duplicates, int merges)
    {
        _stored.Add(inserted);
        _duplicates.Add(duplicates);
        _merges.Add(merges);
    }

    /// <summary>A whole batch stored: event ids repeated within it, time from consumed to committed.</summary>
    public void BatchStored(int duplicatesInBatch, TimeSpan elapsed)
    {
        _duplicates.Add(duplicatesInBatch);
        _batchDuration.Record(elapsed.TotalMilliseconds);
    }

    /// <summary>A batch of <paramref name="messages"/> handed to the store.</summary>
    public void BatchHandedOver(int messages) => _batchMessages.Record(messages);

    /// <summary>Messages consumed and not yet stored (their offsets) or dropped: the worker's memory in messages.</summary>
    public void Held(int delta) => _held.Add(delta);

    public void DeadLettered() => _deadLettered.Add(1);

    public void StoreRetried() => _retries.Add(1);
}
