using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Ingest.ServiceDefaults;

namespace Ingest.Worker;

/// <summary>
/// Worker metrics: touches stored and deduplicated, merges, dead letters, retries, batch duration, consumer lag per
/// partition. Names as Prometheus exports them: deploy/observability/.
/// </summary>
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
    private IConsumer<byte[]?, byte[]>? _consumer;

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
        meter.CreateObservableGauge("ingest.worker.consumer.lag", ConsumerLag, "{message}",
            "Messages in each assigned partition not yet consumed (high watermark minus position)");

        // Series that exist from the start, so a rate() over them is 0 rather than absent before the first event.
        _deadLettered.Add(0);
        _retries.Add(0);
    }

    /// <summary>Reports the lag of this consumer's assigned partitions until the returned handle is disposed.</summary>
    public IDisposable ObserveLag(IConsumer<byte[]?, byte[]> consumer)
    {
        Volatile.Write(ref _consumer, consumer);
        return new LagRegistration(this, consumer);
    }

    // Runs on the scraping thread: watermarks are librdkafka's cached values (no broker round trip).
    private IEnumerable<Measurement<long>> ConsumerLag()
    {
        if (Volatile.Read(ref _consumer) is not { } consumer)
        {
            return [];
        }

        var measurements = new List<Measurement<long>>();
        try
        {
            foreach (var partition in consumer.Assignment)
            {
                var watermarks = consumer.GetWatermarkOffsets(partition);
                if (watermarks.High == Offset.Unset)
                {
                    continue; // not fetched yet
                }

                // Nothing consumed from it yet: everything the partition still holds is behind.
                var position = consumer.Position(partition) is { } p && p != Offset.Unset ? p : watermarks.Low;
                if (position == Offset.Unset)
                {
                    continue;
                }

                measurements.Add(new Measurement<long>(Math.Max(0, watermarks.High.Value - position.Value),
                    new KeyValuePair<string, object?>("topic", partition.Topic),
                    new KeyValuePair<string, object?>("partition", partition.Partition.Value)));
            }
        }
        catch (Exception ex) when (ex is ObjectDisposedException or KafkaException or InvalidOperationException)
        {
            // The consumer closed between two scrapes.
            return [];
        }

        return measurements;
    }

    private sealed class LagRegistration(WorkerMetrics metrics, IConsumer<byte[]?, byte[]> consumer) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref metrics._consumer, null, consumer);
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
