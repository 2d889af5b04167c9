using Confluent.Kafka;

namespace Ingest.LoadTests.Pipeline;

/// <summary>
/// Samples, every two seconds, how far the worker group's committed offsets sit above each partition's oldest kept
/// offset. The development broker keeps only ~5 MiB per partition (librdkafka's mock cluster, not configurable): a
/// committed offset below the low watermark means unconsumed touches were purged and the consumer will reset past
/// them. The chaos run prints what it saw so a loss can be told apart from retention.
/// </summary>
internal sealed class RetentionWatch : IDisposable
{
    private readonly IConsumer<Ignore, Ignore> _consumer;
    private readonly List<TopicPartition> _partitions;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public RetentionWatch(string bootstrap, string topic, string groupId)
    {
        _consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = groupId, // reads the group's commits (OffsetFetch) without joining it
            EnableAutoCommit = false,
        }).SetLogHandler(static (_, _) => { }).Build();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        _partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics[0].Partitions
            .Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Samples taken (a broker outage skips some).</summary>
    public int Samples { get; private set; }

    /// <summary>Partition samples whose committed offset had fallen below the oldest kept offset.</summary>
    public int PurgedBeforeCommit { get; private set; }

    /// <summary>The smallest distance, in messages, between a committed offset and the oldest kept one, once purging began.</summary>
    public long MinHeadroom { get; private set; } = long.MaxValue;

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                Sample();
            }
            catch (KafkaException)
            {
                // The broker is down (a deliberate fault): the next sample tells.
            }

            try
            {
                await Task.Delay(2000, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Sample()
    {
        var committed = _consumer.Committed(_partitions, TimeSpan.FromSeconds(5));
        foreach (var offset in committed)
        {
            if (offset.Offset.Value < 0)
            {
                continue; // nothing committed yet on this partition
            }

            var low = _consumer.QueryWatermarkOffsets(offset.TopicPartition, TimeSpan.FromSeconds(5)).Low.Value;
            if (low <= 0)
            {
                continue; // nothing purged yet: no risk to measure
            }

            var headroom = offset.Offset.Value - low;
            MinHeadroom = Math.Min(MinHeadroom, headroom);
            if (headroom < 0)
            {
                PurgedBeforeCommit++;
            }
        }

        Samples++;
    }

    public string Summary() =>
        $"retention: samples={Samples} purged_before_commit={PurgedBeforeCommit} min_headroom={(MinHeadroom == long.MaxValue ? "n/a" : MinHeadroom.ToString(System.Globalization.CultureInfo.InvariantCulture))}";

    public void Dispose()
    {
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(15));
        _consumer.Close();
        _consumer.Dispose();
        _stop.Dispose();
    }
}
