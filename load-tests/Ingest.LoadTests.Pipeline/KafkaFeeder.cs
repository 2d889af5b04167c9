using Confluent.Kafka;
using Ingest.Core.Touches;

namespace Ingest.LoadTests.Pipeline;

/// <summary>
/// Produces ready-built records straight to <c>touches.v1</c> (exactly what the collector would produce: same value,
/// key and headers) so the worker can be measured alone, with Kafka always ahead of it.
/// </summary>
internal static class KafkaFeeder
{
    public static HashSet<string> Feed(string bootstrap, string topic, IReadOnlyList<BuiltTouch> touches, Backlog backlog)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            CompressionType = CompressionType.Lz4,
            QueueBufferingMaxMessages = 200_000,
        }).Build();

        var failed = 0;
        var acked = new HashSet<string>();
        for (var i = 0; i < touches.Count; i++)
        {
            if (i % 2_000 == 0)
            {
                backlog.WaitForRoomAsync(i).GetAwaiter().GetResult();
            }

            var touch = touches[i];
            var headers = new Headers { { TouchHeaders.SchemaVersion, TouchHeaders.CurrentSchemaVersionValue() }, { TouchHeaders.EventId, System.Text.Encoding.UTF8.GetBytes(touch.Record.EventId) } };
            producer.Produce(topic, new Message<byte[], byte[]> { Key = touch.Key, Value = touch.Json, Headers = headers },
                report => { if (report.Error.IsError) { Interlocked.Increment(ref failed); } });
            acked.Add(touch.Record.EventId);
        }

        producer.Flush(TimeSpan.FromMinutes(1));
        if (failed > 0)
        {
            throw new InvalidOperationException($"{failed} records were not acknowledged by Kafka");
        }

        return acked;
    }
}
