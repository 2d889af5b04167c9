namespace Ingest.ServiceDefaults;

/// <summary>
/// The process's Kafka producer's fatal state. librdkafka's fatal errors (an idempotent producer fenced or out of
/// sequence) are permanent for that producer: every later produce fails, so readiness must fail too.
/// </summary>
public sealed class KafkaProducerHealth
{
    private volatile string? _fatalError;

    /// <summary>The fatal error the producer reported, or null while it works.</summary>
    public string? FatalError => _fatalError;

    /// <summary>Records a fatal error (the first one is kept).</summary>
    public void ReportFatal(string error) => Interlocked.CompareExchange(ref _fatalError, error, null);
}
