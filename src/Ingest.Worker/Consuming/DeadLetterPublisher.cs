using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Ingest.Core.Touches;
using Ingest.ServiceDefaults;

namespace Ingest.Worker.Consuming;

/// <summary>Sends messages the worker cannot store to the dead-letter topic, with the reason and their origin in headers.</summary>
public sealed partial class DeadLetterPublisher : IDisposable
{
    private const int MaxReasonLength = 500;

    private readonly IProducer<byte[]?, byte[]> _producer;
    private readonly string _topic;
    private readonly WorkerMetrics _metrics;
    private readonly ILogger _logger;

    public DeadLetterPublisher(KafkaOptions kafka, WorkerMetrics metrics, ILogger logger)
    {
        _topic = kafka.DeadLetterTopic;
        _metrics = metrics;
        _logger = logger;
        _producer = new ProducerBuilder<byte[]?, byte[]>(CreateConfig(kafka)).Build();
    }

    /// <summary>The dead-letter producer's librdkafka settings.</summary>
    public static ProducerConfig CreateConfig(KafkaOptions kafka) => KafkaClientConfig.Apply(kafka, new ProducerConfig
    {
        Acks = Acks.All,
        EnableIdempotence = true,
    });

    /// <summary>Produces the original key, value and headers of <paramref name="message"/> with the reason; completes once Kafka has it.</summary>
    public async Task PublishAsync(ConsumeResult<byte[]?, byte[]> message, string reason, CancellationToken cancellationToken)
    {
        var headers = new Headers
        {
            { TouchHeaders.DeadLetterReason, Encoding.UTF8.GetBytes(reason.Length > MaxReasonLength ? reason[..MaxReasonLength] : reason) },
            { TouchHeaders.DeadLetterTopic, Encoding.UTF8.GetBytes(message.Topic) },
            { TouchHeaders.DeadLetterPartition, Encoding.UTF8.GetBytes(message.Partition.Value.ToString(CultureInfo.InvariantCulture)) },
            { TouchHeaders.DeadLetterOffset, Encoding.UTF8.GetBytes(message.Offset.Value.ToString(CultureInfo.InvariantCulture)) },
        };
        foreach (var header in message.Message.Headers ?? [])
        {
            headers.Add(header.Key, header.GetValueBytes());
        }

        await _producer.ProduceAsync(_topic, new Message<byte[]?, byte[]> { Key = message.Message.Key, Value = message.Message.Value, Headers = headers }, cancellationToken);
        _metrics.DeadLettered();
        LogDeadLettered(_logger, message.Topic, message.Partition.Value, message.Offset.Value, reason);
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }

    [LoggerMessage(EventId = 2008, Level = LogLevel.Warning, Message = "Dead-lettered {Topic}[{Partition}]@{Offset}: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, string topic, int partition, long offset, string reason);
}
