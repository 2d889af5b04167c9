using Confluent.Kafka;

namespace Ingest.ServiceDefaults;

/// <summary>
/// The one function every Kafka client's settings go through (collector producer, worker consumer, dead-letter producer,
/// readiness probe): the bootstrap servers, then <c>Kafka:Client:*</c> (SASL, TLS …) applied last so they always win.
/// </summary>
public static class KafkaClientConfig
{
    /// <summary>Completes <paramref name="config"/> (a client's own settings) with the connection settings of <paramref name="kafka"/>.</summary>
    public static TConfig Apply<TConfig>(KafkaOptions kafka, TConfig config)
        where TConfig : ClientConfig
    {
        ArgumentNullException.ThrowIfNull(kafka);
        ArgumentNullException.ThrowIfNull(config);
        config.BootstrapServers = kafka.BootstrapServers;
        foreach (var (key, value) in kafka.Client)
        {
            config.Set(key, value);
        }

        return config;
    }
}
