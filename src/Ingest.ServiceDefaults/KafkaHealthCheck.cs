using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Ingest.ServiceDefaults;

/// <summary>
/// Ready only when broker metadata for the touch topic can be fetched within the configured timeout and the process's
/// producer has not failed for good.
/// </summary>
public sealed class KafkaHealthCheck : IHealthCheck, IDisposable
{
    private readonly KafkaOptions _options;
    private readonly KafkaProducerHealth _producer;
    private readonly Lazy<IAdminClient> _admin;

    public KafkaHealthCheck(IOptions<KafkaOptions> options, KafkaProducerHealth producer)
    {
        _options = options.Value;
        _producer = producer;
        _admin = new Lazy<IAdminClient>(() =>
        {
            var config = KafkaClientConfig.Apply(_options, new AdminClientConfig { SocketTimeoutMs = _options.MetadataTimeoutMs });
            return new AdminClientBuilder(config).Build();
        });
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        _producer.FatalError is { } fatal
            ? Task.FromResult(HealthCheckResult.Unhealthy("Kafka producer fatal error (restart the process): " + fatal))
            : CheckMetadataAsync(cancellationToken);

    private Task<HealthCheckResult> CheckMetadataAsync(CancellationToken cancellationToken) =>
        // GetMetadata blocks on the network; keep it off the request thread pool's hot path.
        Task.Run(() =>
        {
            try
            {
                var metadata = _admin.Value.GetMetadata(_options.TouchTopic, TimeSpan.FromMilliseconds(_options.MetadataTimeoutMs));
                var topic = metadata.Topics.FirstOrDefault(t => t.Topic == _options.TouchTopic);
                if (metadata.Brokers.Count == 0 || topic is null || topic.Error.IsError)
                {
                    return HealthCheckResult.Unhealthy($"Kafka topic {_options.TouchTopic} is not available: {topic?.Error.Reason ?? "no brokers"}");
                }

                return HealthCheckResult.Healthy($"{metadata.Brokers.Count} broker(s), {topic.Partitions.Count} partition(s)");
            }
            catch (KafkaException ex)
            {
                return HealthCheckResult.Unhealthy("Kafka metadata unreachable: " + ex.Error.Reason);
            }
        }, cancellationToken);

    public void Dispose()
    {
        if (_admin.IsValueCreated)
        {
            _admin.Value.Dispose();
        }
    }
}
