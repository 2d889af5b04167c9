using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;

namespace Ingest.Worker.Consuming;

/// <summary>
/// The consumer's side of batching, on the consume loop's thread only: fills batches of up to
/// <see cref="WorkerOptions.BatchSize"/> messages or <see cref="WorkerOptions.BatchTimeoutMs"/>, pauses and resumes the
/// partitions while the store is unavailable, drops what revoked partitions left behind, and stores the offsets of
/// stored batches in order.
/// </summary>
internal sealed partial class PartitionBatcher : IDisposable
{
    private readonly IConsumer<byte[]?, byte[]> _consumer;
    private readonly WorkerOptions _options;
    private readonly WorkerMetrics _metrics;
    private readonly ILogger _logger;
    private readonly HashSet<TopicPartition> _revoked = [];
    private readonly List<ConsumeResult<byte[]?, byte[]>> _carried = [];
    private List<TopicPartition>? _paused;

    public PartitionBatcher(ConsumerConfig config, string topic, WorkerOptions options, WorkerMetrics metrics, ILogger logger)
    {
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _consumer = new ConsumerBuilder<byte[]?, byte[]>(config)
            .SetPartitionsAssignedHandler((_, partitions) => LogAssigned(_logger, partitions.Count))
            .SetPartitionsRevokedHandler((_, partitions) => OnRevoked(partitions))
            .SetErrorHandler((_, e) => LogKafkaError(_logger, e.Code, e.Reason))
            .Build();
        _consumer.Subscribe(topic);
    }

    /// <summary>Whether the partitions are paused (the store is unavailable).</summary>
    public bool Paused => _paused is not null;

    /// <summary>The next batch: messages carried over, then what arrives until the batch is full or its time is up.</summary>
    public List<ConsumeResult<byte[]?, byte[]>> Fill(CancellationToken stoppingToken)
    {
        var batch = new List<ConsumeResult<byte[]?, byte[]>>(Math.Min(_options.BatchSize, 4_096));
        batch.AddRange(_carried);
        _metrics.Held(-_carried.Count);
        _carried.Clear();
        if (batch.Count == 0)
        {
            var first = _consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (first is null)
            {
                return batch;
            }

            batch.Add(first);
        }

        var deadline = Stopwatch.GetTimestamp() + (long)(_options.BatchTimeoutMs * (Stopwatch.Frequency / 1000.0));
        while (batch.Count < _options.BatchSize && !stoppingToken.IsCancellationRequested)
        {
            var left = deadline - Stopwatch.GetTimestamp();
            if (left <= 0)
            {
                break;
            }

            var next = _consumer.Consume(TimeSpan.FromTicks(Math.Max(1, left * TimeSpan.TicksPerSecond / Stopwatch.Frequency)));
            if (next is null)
            {
                break;
            }

            batch.Add(next);
        }

        DropRevoked(batch);
        _metrics.Held(batch.Count);
        return batch;
    }

    /// <summary>Pauses every assigned partition; the loop keeps polling (<see cref="PollWhilePaused"/>) to stay in the group.</summary>
    public void PauseAll()
    {
        _paused = _consumer.Assignment;
        _consumer.Pause(_paused);
        LogPaused(_logger, _paused.Count);
    }

    /// <summary>Polls while paused, so the consumer stays in the group and rebalances are served.</summary>
    public void PollWhilePaused()
    {
        if (_consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } early)
        {
            // Fetched before the pause took effect: keep it for the next batch, or its offset would be skipped.
            _carried.Add(early);
            _metrics.Held(1);
        }
    }

    public void ResumeAll()
    {
        _consumer.Resume(_consumer.Assignment);
        _paused = null;
        LogResumed(_logger);
    }

    /// <summary>Offsets of stored batches, in order; the periodic auto-commit sends them to Kafka.</summary>
    public void StoreOffsets(ConcurrentQueue<TouchBatch> stored)
    {
        while (stored.TryDequeue(out var batch))
        {
            _metrics.Held(-batch.Messages.Count);
            var last = new Dictionary<TopicPartition, ConsumeResult<byte[]?, byte[]>>();
            foreach (var message in batch.Messages)
            {
                last[message.TopicPartition] = message;
            }

            foreach (var message in last.Values)
            {
                try
                {
                    _consumer.StoreOffset(message);
                }
                catch (KafkaException ex) when (ex.Error.Code == ErrorCode.Local_State)
                {
                    // Partition revoked meanwhile; its new owner reprocesses these touches idempotently.
                }
            }
        }
    }

    /// <summary>Commits the stored offsets and leaves the group.</summary>
    public void Close()
    {
        try
        {
            _consumer.Commit();
        }
        catch (KafkaException)
        {
            // Nothing stored since the last commit, or the group is gone: both are fine on the way out.
        }

        _consumer.Close();
    }

    public void Dispose() => _consumer.Dispose();

    private void OnRevoked(List<TopicPartitionOffset> partitions)
    {
        // Revoked partitions belong to another worker now: their touches still in the batch being filled are
        // dropped and redelivered there from the last stored offset (stored once thanks to event_id).
        foreach (var p in partitions)
        {
            _revoked.Add(p.TopicPartition);
        }

        LogRevoked(_logger, partitions.Count);
    }

    private void DropRevoked(List<ConsumeResult<byte[]?, byte[]>> batch)
    {
        if (_revoked.Count > 0)
        {
            batch.RemoveAll(m => _revoked.Contains(m.TopicPartition));
            _revoked.Clear();
        }
    }

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Assigned {Count} partition(s)")]
    private static partial void LogAssigned(ILogger logger, int count);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Revoked {Count} partition(s)")]
    private static partial void LogRevoked(ILogger logger, int count);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Kafka consumer error: {Code} {Reason}")]
    private static partial void LogKafkaError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Paused {Count} partition(s) while the store is unavailable")]
    private static partial void LogPaused(ILogger logger, int count);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Information, Message = "Store recovered; consumption resumed")]
    private static partial void LogResumed(ILogger logger);
}
