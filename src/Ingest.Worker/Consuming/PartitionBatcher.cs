using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;

namespace Ingest.Worker.Consuming;

/// <summary>
/// The consumer's side of batching, on the consume loop's thread only: fills batches of up to
/// <see cref="WorkerOptions.BatchSize"/> messages or <see cref="WorkerOptions.BatchTimeoutMs"/>, pauses and resumes the
/// partitions while the store is unavailable, drops what revoked partitions left in the batch being filled (in the
/// revoke handler, so nothing fetched after a re-assignment is lost), and stores the offsets of stored batches in order.
/// While paused it holds no message: one fetched anyway (a partition assigned during the pause) is given back by
/// pausing its partition and seeking to it, so memory stays bounded by the batches in the pipeline. librdkafka keeps a
/// partition's pause flag across a rebalance, so every partition assigned gets the state the consumer is in now.
/// </summary>
internal sealed partial class PartitionBatcher : IDisposable
{
    private readonly IConsumer<byte[]?, byte[]> _consumer;
    private readonly WorkerOptions _options;
    private readonly WorkerMetrics _metrics;
    private readonly ILogger _logger;
    private readonly IDisposable _lag;
    private List<ConsumeResult<byte[]?, byte[]>>? _filling;
    private List<TopicPartition>? _assigned;
    private bool _paused;

    public PartitionBatcher(ConsumerConfig config, string topic, WorkerOptions options, WorkerMetrics metrics, ILogger logger)
    {
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _consumer = new ConsumerBuilder<byte[]?, byte[]>(config)
            .SetPartitionsAssignedHandler((_, partitions) => OnAssigned(partitions))
            .SetPartitionsRevokedHandler((_, partitions) => OnRevoked(partitions))
            .SetErrorHandler((_, e) => OnError(e))
            .Build();
        _consumer.Subscribe(topic);
        _lag = metrics.ObserveLag(_consumer);
    }

    /// <summary>Whether the partitions are paused (the store is unavailable).</summary>
    public bool Paused => _paused;

    /// <summary>A fatal client error (reported by librdkafka's error callback), after which the worker must stop.</summary>
    public Error? FatalError { get; private set; }

    /// <summary>The next batch: what arrives until it holds <see cref="WorkerOptions.BatchSize"/> messages or its time is up.</summary>
    public List<ConsumeResult<byte[]?, byte[]>> Fill(CancellationToken stoppingToken)
    {
        var batch = new List<ConsumeResult<byte[]?, byte[]>>(Math.Min(_options.BatchSize, 4_096));
        _filling = batch;
        try
        {
            FillInto(batch, stoppingToken);
        }
        finally
        {
            _filling = null;
        }

        _metrics.Held(batch.Count);
        return batch;
    }

    private void FillInto(List<ConsumeResult<byte[]?, byte[]>> batch, CancellationToken stoppingToken)
    {
        var first = Next(TimeSpan.FromMilliseconds(200));
        if (first is null)
        {
            return;
        }

        batch.Add(first);

        var deadline = Stopwatch.GetTimestamp() + (long)(_options.BatchTimeoutMs * (Stopwatch.Frequency / 1000.0));
        while (batch.Count < _options.BatchSize && !stoppingToken.IsCancellationRequested)
        {
            var left = deadline - Stopwatch.GetTimestamp();
            if (left <= 0)
            {
                break;
            }

            var next = Next(TimeSpan.FromTicks(Math.Max(1, left * TimeSpan.TicksPerSecond / Stopwatch.Frequency)));
            if (next is null)
            {
                break;
            }

            batch.Add(next);
        }
    }

    /// <summary>Pauses every assigned partition; the loop keeps polling (<see cref="PollWhilePaused"/>) to stay in the group.</summary>
    public void PauseAll()
    {
        var assignment = _consumer.Assignment;
        _consumer.Pause(assignment);
        _paused = true;
        LogPaused(_logger, assignment.Count);
    }

    /// <summary>Polls while paused, so the consumer stays in the group and rebalances are served.</summary>
    public void PollWhilePaused()
    {
        if (Next(TimeSpan.FromMilliseconds(100)) is { } early)
        {
            // From a partition assigned during the pause (or fetched before the pause took effect): pause that one too
            // and seek back to this message, which is fetched again on resume. Holding it instead would let a
            // rebalance during a long outage pour whole partitions into memory.
            _consumer.Pause([early.TopicPartition]);
            _consumer.Seek(early.TopicPartitionOffset);
        }
    }

    public void ResumeAll()
    {
        _consumer.Resume(_consumer.Assignment);
        _paused = false;
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

    public void Dispose()
    {
        _lag.Dispose();
        _consumer.Dispose();
    }

    /// <summary>One message, or null; a consumer error that is not fatal (topic not created yet, coordinator moving) is logged and skipped.</summary>
    private ConsumeResult<byte[]?, byte[]>? Next(TimeSpan timeout)
    {
        try
        {
            var result = _consumer.Consume(timeout);
            SetPauseStateOfAssigned();
            return result;
        }
        catch (ConsumeException ex) when (!ex.Error.IsFatal)
        {
            LogConsumeError(_logger, ex.Error.Code, ex.Error.Reason);
            return null;
        }
    }

    private void OnAssigned(List<TopicPartition> partitions)
    {
        // Applied once Consume returns, when the assignment is in effect.
        (_assigned ??= []).AddRange(partitions);
        LogAssigned(_logger, partitions.Count);
    }

    /// <summary>
    /// Gives partitions assigned by the last rebalance the consumer's state: paused while the store is unavailable
    /// (or they would be fetched into memory), resumed otherwise (a partition revoked while paused comes back paused).
    /// </summary>
    private void SetPauseStateOfAssigned()
    {
        if (_assigned is not { Count: > 0 } assigned)
        {
            return;
        }

        _assigned = null;
        try
        {
            if (_paused)
            {
                _consumer.Pause(assigned);
            }
            else
            {
                _consumer.Resume(assigned);
            }
        }
        catch (KafkaException ex)
        {
            // Revoked again meanwhile: the next assignment sets the state again.
            LogKafkaError(_logger, ex.Error.Code, ex.Error.Reason);
        }
    }

    private void OnRevoked(List<TopicPartitionOffset> partitions)
    {
        // Runs inside Consume, on this thread. Revoked partitions belong to another worker now: their messages in the
        // batch being filled are dropped here and redelivered there from the last stored offset (stored once thanks to
        // event_id). Pruned now, not later: a partition handed back before a later prune would lose its re-fetched messages.
        if (_filling is { Count: > 0 } filling)
        {
            var revoked = partitions.Select(static p => p.TopicPartition).ToHashSet();
            filling.RemoveAll(m => revoked.Contains(m.TopicPartition));
        }

        LogRevoked(_logger, partitions.Count);
    }

    private void OnError(Error error)
    {
        if (error.IsFatal)
        {
            FatalError = error;
        }

        LogKafkaError(_logger, error.Code, error.Reason);
    }

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Assigned {Count} partition(s)")]
    private static partial void LogAssigned(ILogger logger, int count);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Revoked {Count} partition(s)")]
    private static partial void LogRevoked(ILogger logger, int count);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Kafka consumer error: {Code} {Reason}")]
    private static partial void LogKafkaError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Kafka consume error, continuing: {Code} {Reason}")]
    private static partial void LogConsumeError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Paused {Count} partition(s) while the store is unavailable")]
    private static partial void LogPaused(ILogger logger, int count);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Information, Message = "Store recovered; consumption resumed")]
    private static partial void LogResumed(ILogger logger);
}
