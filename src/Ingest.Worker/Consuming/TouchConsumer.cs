using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;
using Ingest.ServiceDefaults;
using Ingest.Storage.Touches;
using Ingest.Worker.Identity;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Ingest.Worker.Consuming;

/// <summary>
/// Consumes <c>touches.v1</c> in the <c>ingest-worker</c> group (cooperative-sticky), in batches of up to
/// <see cref="WorkerOptions.BatchSize"/> touches or <see cref="WorkerOptions.BatchTimeoutMs"/>. Each batch is resolved to
/// leads and stored in one Postgres transaction; only then are its offsets stored (at-least-once delivery, exactly-once
/// effect through idempotent inserts). Unparsable messages go to the dead-letter topic and never block a partition.
/// While Postgres or Redis is down the batch is retried with back-off and jitter, consumption paused, nothing committed.
/// </summary>
public sealed partial class TouchConsumer(
    IOptions<KafkaOptions> kafka,
    IOptions<WorkerOptions> options,
    IdentityResolver resolver,
    TouchBatchWriter writer,
    WorkerMetrics metrics,
    ILogger<TouchConsumer> logger) : BackgroundService
{
    private readonly KafkaOptions _kafka = kafka.Value;
    private readonly WorkerOptions _options = options.Value;
    private readonly HashSet<TopicPartition> _revoked = [];

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        // Consume() blocks: give the loop its own thread rather than a thread-pool thread.
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    private async Task Run(CancellationToken stoppingToken)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = _kafka.BootstrapServers,
            GroupId = _options.GroupId,
            EnableAutoCommit = true,
            EnableAutoOffsetStore = false,
            AutoCommitIntervalMs = 1_000,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            SessionTimeoutMs = _options.SessionTimeoutMs,
            HeartbeatIntervalMs = Math.Max(500, _options.SessionTimeoutMs / 5),
            FetchWaitMaxMs = 10,
        };
        foreach (var (key, value) in _kafka.Client)
        {
            config.Set(key, value);
        }

        using var deadLetters = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = _kafka.BootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
        }).Build();

        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(config)
            .SetPartitionsAssignedHandler((_, partitions) => LogAssigned(logger, partitions.Count))
            .SetPartitionsRevokedHandler((_, partitions) =>
            {
                // Revoked partitions belong to another worker now: their touches still in our batch are dropped and will
                // be redelivered there from the last stored offset (stored once thanks to event_id).
                lock (_revoked)
                {
                    foreach (var p in partitions)
                    {
                        _revoked.Add(p.TopicPartition);
                    }
                }

                LogRevoked(logger, partitions.Count);
            })
            .SetErrorHandler((_, e) => LogKafkaError(logger, e.Code, e.Reason))
            .Build();
        consumer.Subscribe(_kafka.TouchTopic);

        var retry = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(static ex => ex is not OperationCanceledException),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            MaxDelay = TimeSpan.FromMilliseconds(_options.MaxRetryDelayMs),
            MaxRetryAttempts = int.MaxValue,
            OnRetry = args =>
            {
                metrics.StoreRetried();
                LogStoreRetry(logger, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception?.Message);
                return ValueTask.CompletedTask;
            },
        }).Build();

        var batch = new List<ConsumeResult<byte[]?, byte[]>>(_options.BatchSize);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                Fill(consumer, batch, stoppingToken);
                DropRevoked(batch);
                if (batch.Count == 0)
                {
                    continue;
                }

                await ProcessAsync(consumer, deadLetters, retry, batch, stoppingToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: the batch in hand was not stored, so its offsets were not either; it is redelivered.
        }
        finally
        {
            try
            {
                consumer.Commit();
            }
            catch (KafkaException)
            {
                // Nothing stored since the last commit, or the group is gone: both are fine on the way out.
            }

            consumer.Close();
            deadLetters.Flush(TimeSpan.FromSeconds(5));
        }
    }

    private void Fill(IConsumer<byte[]?, byte[]> consumer, List<ConsumeResult<byte[]?, byte[]>> batch, CancellationToken stoppingToken)
    {
        var first = consumer.Consume(TimeSpan.FromMilliseconds(200));
        if (first is null || first.IsPartitionEOF)
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

            var next = consumer.Consume(TimeSpan.FromTicks(Math.Max(1, left * TimeSpan.TicksPerSecond / Stopwatch.Frequency)));
            if (next is null)
            {
                break;
            }

            if (!next.IsPartitionEOF)
            {
                batch.Add(next);
            }
        }
    }

    private void DropRevoked(List<ConsumeResult<byte[]?, byte[]>> batch)
    {
        lock (_revoked)
        {
            if (_revoked.Count > 0)
            {
                batch.RemoveAll(m => _revoked.Contains(m.TopicPartition));
                _revoked.Clear();
            }
        }
    }

    private async Task ProcessAsync(IConsumer<byte[]?, byte[]> consumer, IProducer<byte[]?, byte[]> deadLetters, ResiliencePipeline retry,
        List<ConsumeResult<byte[]?, byte[]>> batch, CancellationToken stoppingToken)
    {
        var started = Stopwatch.GetTimestamp();
        var records = new List<TouchRecord>(batch.Count);
        var jsons = new List<byte[]>(batch.Count);
        var poison = new List<(ConsumeResult<byte[]?, byte[]> Message, string Reason)>();
        foreach (var message in batch)
        {
            if (TryParse(message, out var record, out var reason))
            {
                records.Add(record);
                jsons.Add(message.Message.Value);
            }
            else
            {
                poison.Add((message, reason));
            }
        }

        foreach (var (message, reason) in poison)
        {
            await DeadLetterAsync(deadLetters, message, reason, stoppingToken);
        }

        if (records.Count > 0)
        {
            var store = retry.ExecuteAsync(async ct =>
            {
                var phase = Stopwatch.GetTimestamp();
                var leads = await resolver.ResolveAsync(records, ct);
                var resolvedIn = Stopwatch.GetElapsedTime(phase);
                var resolved = new ResolvedTouch[records.Count];
                for (var i = 0; i < records.Count; i++)
                {
                    resolved[i] = new ResolvedTouch(records[i], leads[i], jsons[i]);
                }

                phase = Stopwatch.GetTimestamp();
                var stored = await writer.WriteAsync(resolved, ct);
                var writtenIn = Stopwatch.GetElapsedTime(phase);
                await resolver.ApplyAsync(stored);
                LogBatch(logger, records.Count, resolvedIn.TotalMilliseconds, writtenIn.TotalMilliseconds);
                return stored;
            }, stoppingToken).AsTask();

            // A slow or failing store must not cost the group membership: pause fetching and keep polling.
            if (await Task.WhenAny(store, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None)) != store)
            {
                var assignment = consumer.Assignment;
                consumer.Pause(assignment);
                LogPaused(logger, assignment.Count);
                while (!store.IsCompleted)
                {
                    consumer.Consume(TimeSpan.FromMilliseconds(100));
                }

                consumer.Resume(consumer.Assignment);
                LogResumed(logger);
            }

            var result = await store;
            metrics.Stored(result.Inserted, result.Duplicates, result.Merges.Count, Stopwatch.GetElapsedTime(started));
        }

        StoreOffsets(consumer, batch);
    }

    /// <summary>Offsets are stored only now, after the Postgres commit; the periodic auto-commit sends them to Kafka.</summary>
    private void StoreOffsets(IConsumer<byte[]?, byte[]> consumer, List<ConsumeResult<byte[]?, byte[]>> batch)
    {
        var last = new Dictionary<TopicPartition, ConsumeResult<byte[]?, byte[]>>();
        foreach (var message in batch)
        {
            last[message.TopicPartition] = message;
        }

        lock (_revoked)
        {
            foreach (var (partition, message) in last)
            {
                if (_revoked.Contains(partition))
                {
                    continue;
                }

                try
                {
                    consumer.StoreOffset(message);
                }
                catch (KafkaException ex) when (ex.Error.Code == ErrorCode.Local_State)
                {
                    // Partition revoked meanwhile; its new owner reprocesses these touches idempotently.
                }
            }
        }
    }

    private static bool TryParse(ConsumeResult<byte[]?, byte[]> message, out TouchRecord record, out string reason)
    {
        record = null!;
        if (message.Message.Headers?.TryGetLastBytes("schema-version", out var version) == true
            && !version.AsSpan().SequenceEqual("1"u8))
        {
            reason = "unsupported schema-version " + Encoding.UTF8.GetString(version);
            return false;
        }

        try
        {
            var parsed = JsonSerializer.Deserialize(message.Message.Value, IngestJsonContext.Default.TouchRecord);
            if (parsed is null)
            {
                reason = "message is JSON null";
                return false;
            }

            if (string.IsNullOrWhiteSpace(parsed.EventId) || parsed.EventId.Length > 256)
            {
                reason = "event_id missing or longer than 256 characters";
                return false;
            }

            if (IdentityKey.Of(parsed).Count == 0)
            {
                reason = "touch carries no identity key";
                return false;
            }

            parsed.Attribution ??= new();
            record = parsed;
            reason = "";
            return true;
        }
        catch (JsonException ex)
        {
            reason = "invalid JSON: " + ex.Message;
            return false;
        }
    }

    private async Task DeadLetterAsync(IProducer<byte[]?, byte[]> deadLetters, ConsumeResult<byte[]?, byte[]> message, string reason, CancellationToken cancellationToken)
    {
        var headers = new Headers
        {
            { "dlq-reason", Encoding.UTF8.GetBytes(reason.Length > 500 ? reason[..500] : reason) },
            { "dlq-topic", Encoding.UTF8.GetBytes(message.Topic) },
            { "dlq-partition", Encoding.UTF8.GetBytes(message.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
            { "dlq-offset", Encoding.UTF8.GetBytes(message.Offset.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
        };
        foreach (var header in message.Message.Headers ?? [])
        {
            headers.Add(header.Key, header.GetValueBytes());
        }

        await deadLetters.ProduceAsync(_kafka.DeadLetterTopic, new Message<byte[]?, byte[]> { Key = message.Message.Key, Value = message.Message.Value, Headers = headers }, cancellationToken);
        metrics.DeadLettered();
        LogDeadLettered(logger, message.Topic, message.Partition.Value, message.Offset.Value, reason);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stored batch of {Count}: identities resolved in {ResolveMs:F1} ms, written in {WriteMs:F1} ms")]
    private static partial void LogBatch(ILogger logger, int count, double resolveMs, double writeMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Assigned {Count} partition(s)")]
    private static partial void LogAssigned(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked {Count} partition(s)")]
    private static partial void LogRevoked(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka consumer error: {Code} {Reason}")]
    private static partial void LogKafkaError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storing batch failed (attempt {Attempt}), retrying in {DelayMs:F0} ms: {Error}")]
    private static partial void LogStoreRetry(ILogger logger, int attempt, double delayMs, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Paused {Count} partition(s) while the store is unavailable")]
    private static partial void LogPaused(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Store recovered; consumption resumed")]
    private static partial void LogResumed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettered {Topic}[{Partition}]@{Offset}: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, string topic, int partition, long offset, string reason);
}
