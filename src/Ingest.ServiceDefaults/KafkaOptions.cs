namespace Ingest.ServiceDefaults;

/// <summary>Kafka connection and topic names (configuration section <c>Kafka</c>), checked by <see cref="KafkaOptionsValidator"/>.</summary>
public sealed class KafkaOptions
{
    public const string Section = "Kafka";

    /// <summary>Comma-separated bootstrap servers (<c>Kafka__BootstrapServers</c>).</summary>
    public string BootstrapServers { get; set; } = "127.0.0.1:29092";

    /// <summary>Topic that carries accepted touches.</summary>
    public string TouchTopic { get; set; } = "touches.v1";

    /// <summary>Topic for messages the worker cannot process.</summary>
    public string DeadLetterTopic { get; set; } = "touches.dlq";

    /// <summary>Topic that carries accepted outcomes (stages, deals, responses): a topic of their own (docs/decisions.md).</summary>
    public string OutcomeTopic { get; set; } = "outcomes.v1";

    /// <summary>Topic for outcome messages the worker cannot process.</summary>
    public string OutcomeDeadLetterTopic { get; set; } = "outcomes.dlq";

    /// <summary>Extra librdkafka properties (<c>Kafka:Client:security.protocol</c> …) applied to every client.</summary>
    public Dictionary<string, string> Client { get; set; } = [];

    /// <summary>How long a readiness probe waits for broker metadata.</summary>
    public int MetadataTimeoutMs { get; set; } = 2_000;
}
