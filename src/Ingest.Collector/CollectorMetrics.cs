using System.Diagnostics;
using System.Diagnostics.Metrics;
using Ingest.ServiceDefaults;

namespace Ingest.Collector;

/// <summary>Collector metrics: touches accepted and rejected by door and reason, produce latency, producer queue depth.</summary>
public sealed class CollectorMetrics
{
    public static readonly ActivitySource ActivitySource = new(ServiceDefaultsExtensions.TelemetryName);

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Histogram<double> _produceDuration;
    private int _inFlight;

    public CollectorMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(ServiceDefaultsExtensions.TelemetryName);
        _accepted = meter.CreateCounter<long>("ingest.touches.accepted", "{touch}", "Touches acknowledged by Kafka");
        _rejected = meter.CreateCounter<long>("ingest.touches.rejected", "{touch}", "Touches refused, by door and reason");
        _produceDuration = meter.CreateHistogram<double>("ingest.kafka.produce.duration", "ms", "Time from produce to Kafka acknowledgement");
        meter.CreateObservableGauge("ingest.kafka.queue.depth", () => Volatile.Read(ref _inFlight), "{message}", "Messages awaiting Kafka acknowledgement");
    }

    public void Accepted(string door) => _accepted.Add(1, new KeyValuePair<string, object?>("door", door));

    public void Rejected(string door, string reason) =>
        _rejected.Add(1, new KeyValuePair<string, object?>("door", door), new KeyValuePair<string, object?>("reason", reason));

    public void ProduceStarted(int messages) => Interlocked.Add(ref _inFlight, messages);

    /// <summary>Messages produced together all acknowledged (or refused): one latency sample for them.</summary>
    public void ProduceFinished(int messages, TimeSpan elapsed)
    {
        Interlocked.Add(ref _inFlight, -messages);
        _produceDuration.Record(elapsed.TotalMilliseconds);
    }
}
