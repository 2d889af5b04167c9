using System.Diagnostics;
using Confluent.Kafka;
using Ingest.Collector.Kafka;
using Ingest.Core.Touches;
using Ingest.ServiceDefaults;

namespace Ingest.LoadTests.Pipeline;

/// <summary>
/// The broker's own produce ceiling for the batch scenario: an in-process producer with the collector's settings
/// (<see cref="TouchProducer.CreateConfig"/>) pushing touches encoded exactly as the collector encodes them (value, key,
/// headers) as fast as the broker acknowledges them. Best of three rounds, each waited for until every record is acked.
/// </summary>
internal static class ProduceCeiling
{
    public static double Measure(string bootstrap, string topic, int perRound)
    {
        var generator = new TouchGenerator("pc" + DateTime.UtcNow.ToString("MMddHHmmss", System.Globalization.CultureInfo.InvariantCulture), seed: 7);
        var touches = Enumerable.Range(0, perRound).Select(_ => Touches.Build(generator.Next())).ToList();
        var schemaVersion = TouchHeaders.CurrentSchemaVersionValue();
        using var producer = new ProducerBuilder<byte[], byte[]>(TouchProducer.CreateConfig(
            new KafkaOptions { BootstrapServers = bootstrap, TouchTopic = topic }, new TouchProducerOptions { AckTimeoutMs = 30_000 })).Build();
        var best = 0.0;
        for (var round = 1; round <= 3; round++)
        {
            var failed = 0;
            var acked = 0;
            var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var clock = Stopwatch.StartNew();
            foreach (var touch in touches)
            {
                var message = new Message<byte[], byte[]>
                {
                    Key = touch.Key,
                    Value = touch.Json,
                    Headers = new Headers { { TouchHeaders.SchemaVersion, schemaVersion }, { TouchHeaders.EventId, System.Text.Encoding.UTF8.GetBytes(touch.Record.EventId) } },
                };
                while (true)
                {
                    try
                    {
                        producer.Produce(topic, message, report =>
                        {
                            if (report.Error.IsError)
                            {
                                Interlocked.Increment(ref failed);
                            }

                            if (Interlocked.Increment(ref acked) == touches.Count)
                            {
                                all.TrySetResult();
                            }
                        });
                        break;
                    }
                    catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        // The producer's bounded queue is full: the broker sets the pace.
                        Thread.Sleep(1);
                    }
                }
            }

            if (!all.Task.Wait(TimeSpan.FromMinutes(2)) || failed > 0)
            {
                throw new InvalidOperationException($"produce ceiling round {round}: {failed} failed, {acked} of {touches.Count} reported");
            }

            var rate = touches.Count / clock.Elapsed.TotalSeconds;
            Console.Error.WriteLine($"produce ceiling round {round}: {rate:F0} records/s ({touches.Count} records, {touches.Average(static t => t.Json.Length):F0} bytes on average)");
            best = Math.Max(best, rate);
        }

        return best;
    }
}
