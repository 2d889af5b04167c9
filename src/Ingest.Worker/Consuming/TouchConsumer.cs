using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Confluent.Kafka;
using Ingest.Core.Serialization;
using Ingest.ServiceDefaults;
using Ingest.Storage.Touches;
using Ingest.Worker.Identity;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Ingest.Worker.Consuming;

/// <summary>
/// Consumes <c>touches.v1</c> in the <c>ingest-worker</c> group (cooperative-sticky), in batches of up to
/// <see cref="WorkerOptions.BatchSize"/> touches or <see cref="WorkerOptions.BatchTimeoutMs"/>. Batches move through
/// three stages that overlap (consume and parse → resolve identities in Redis → store in Postgres), so Redis, Postgres
/// and this process work at the same time; each batch is stored in one Postgres transaction and only then are its
/// offsets stored, in order (at-least-once delivery, exactly-once effect through idempotent inserts). Unparsable
/// messages go to the dead-letter topic and never block a partition. While Postgres or Redis is down the batch is
/// retried with back-off and jitter and consumption paused; nothing is committed and nothing lost.
/// </summary>
public sealed partial class TouchConsumer(
    IOptions<KafkaOptions> kafka,
    IOptions<WorkerOptions> options,
    IdentityResolver resolver,
    TouchBatchWriter writer,
    WorkerMetrics metrics,
    ILogger<TouchConsumer> logger) : BackgroundService
{
    // How long in-flight batches may take to finish once the worker is asked to stop.
    private static readonly TimeSpan DrainOnStop = TimeSpan.FromSeconds(10);

    // How long the consumer waits for a full pipeline before pausing its partitions (and polling to stay in the group).
    private static readonly TimeSpan PauseAfter = TimeSpan.FromSeconds(2);

    private readonly KafkaOptions _kafka = kafka.Value;
    private readonly WorkerOptions _options = options.Value;
    private readonly HashSet<TopicPartition> _revoked = [];

    /// <summary>A batch on its way through the stages: its messages (for offsets) and the touches to store.</summary>
    private sealed class Batch(List<ConsumeResult<byte[]?, byte[]>> messages, List<ResolvedTouch> touches, int duplicatesInBatch)
    {
        public List<ConsumeResult<byte[]?, byte[]>> Messages { get; } = messages;
        public List<ResolvedTouch> Touches { get; } = touches;
        public int DuplicatesInBatch { get; } = duplicatesInBatch;
        public long Started { get; } = Stopwatch.GetTimestamp();
    }

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
                // Revoked partitions belong to another worker now: their touches still in the batch being filled are
                // dropped and redelivered there from the last stored offset (stored once thanks to event_id).
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
        using var lag = metrics.ObserveLag(consumer);

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

        // One batch waits in front of each stage: enough to keep every stage busy, little to redo after a crash.
        var toResolve = Channel.CreateBounded<Batch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        var toStore = Channel.CreateBounded<Batch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        var stored = new ConcurrentQueue<Batch>();
        using var drain = new CancellationTokenSource();
        var resolving = Task.Run(() => ResolveStageAsync(toResolve.Reader, toStore.Writer, retry, drain.Token), CancellationToken.None);
        var storing = Task.Run(() => StoreStageAsync(toStore.Reader, stored, retry, drain.Token), CancellationToken.None);
        var stages = Task.WhenAll(resolving, storing);

        var carried = new List<ConsumeResult<byte[]?, byte[]>>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                StoreOffsets(consumer, stored);
                var messages = Fill(consumer, carried, stoppingToken);
                DropRevoked(messages);
                if (messages.Count == 0)
                {
                    continue;
                }

                var batch = await PrepareAsync(deadLetters, messages, stoppingToken);
                await HandOverAsync(consumer, toResolve.Writer, batch, carried, stored, stages, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: a batch not handed over was not stored, so neither were its offsets; it is redelivered.
        }
        finally
        {
            // Let the batches in flight finish (bounded), store their offsets, then leave the group cleanly.
            toResolve.Writer.TryComplete();
            drain.CancelAfter(DrainOnStop);
            try
            {
                await stages;
            }
            catch (OperationCanceledException)
            {
                // Not finished in time: those batches are redelivered to whoever owns their partitions next.
            }

            StoreOffsets(consumer, stored);
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

    private async Task ResolveStageAsync(ChannelReader<Batch> input, ChannelWriter<Batch> output, ResiliencePipeline retry, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var batch in input.ReadAllAsync(cancellationToken))
            {
                if (batch.Touches.Count > 0)
                {
                    await retry.ExecuteAsync(async ct => await resolver.ResolveAsync(batch.Touches, ct), cancellationToken);
                }

                await output.WriteAsync(batch, cancellationToken);
            }
        }
        finally
        {
            output.TryComplete();
        }
    }

    private async Task StoreStageAsync(ChannelReader<Batch> input, ConcurrentQueue<Batch> stored, ResiliencePipeline retry, CancellationToken cancellationToken)
    {
        await foreach (var batch in input.ReadAllAsync(cancellationToken))
        {
            if (batch.Touches.Count > 0)
            {
                var resolvedIn = Stopwatch.GetElapsedTime(batch.Started);
                var writing = Stopwatch.GetTimestamp();

                // The batch is split by lead into parallel transactions: no two of them touch the same lead, and
                // Postgres uses more than one core while this process prepares the next rows.
                var parts = SplitByLead(batch.Touches, _options.Writers);
                var results = await Task.WhenAll(parts.Select(part => retry.ExecuteAsync(async ct => await writer.WriteAsync(part, ct), cancellationToken).AsTask()));
                var writtenIn = Stopwatch.GetElapsedTime(writing);

                // Redis learns what Postgres settled: keys confirmed (or owned elsewhere) and merges. It is a cache, so this may lag.
                foreach (var result in results)
                {
                    await retry.ExecuteAsync(async _ => await resolver.ConfirmAsync(result), cancellationToken);
                    metrics.Stored(result.Inserted, result.Duplicates, result.Merges.Count);
                }

                metrics.BatchStored(batch.DuplicatesInBatch, Stopwatch.GetElapsedTime(batch.Started));
                LogBatch(logger, batch.Touches.Count, resolvedIn.TotalMilliseconds, writtenIn.TotalMilliseconds);
            }

            stored.Enqueue(batch);
        }
    }

    private static List<ResolvedTouch>[] SplitByLead(List<ResolvedTouch> touches, int parts)
    {
        if (parts <= 1 || touches.Count < parts * 64)
        {
            return [touches];
        }

        var split = new List<ResolvedTouch>[parts];
        for (var i = 0; i < parts; i++)
        {
            split[i] = new List<ResolvedTouch>(touches.Count / parts + 16);
        }

        foreach (var touch in touches)
        {
            split[(int)((uint)touch.LeadId.GetHashCode() % (uint)parts)].Add(touch);
        }

        return split.Where(static p => p.Count > 0).ToArray();
    }

    /// <summary>
    /// Passes the batch to the resolve stage. While the pipeline is full (Postgres or Redis slow or down) the consumer
    /// waits; past <see cref="PauseAfter"/> it pauses its partitions and keeps polling so it stays in the group.
    /// </summary>
    private async Task HandOverAsync(IConsumer<byte[]?, byte[]> consumer, ChannelWriter<Batch> output, Batch batch,
        List<ConsumeResult<byte[]?, byte[]>> carried, ConcurrentQueue<Batch> stored, Task stages, CancellationToken stoppingToken)
    {
        var waiting = Stopwatch.GetTimestamp();
        List<TopicPartition>? paused = null;
        while (!output.TryWrite(batch))
        {
            if (stages.IsFaulted)
            {
                await stages; // a stage failed for good: stop the worker rather than consume without storing
            }

            StoreOffsets(consumer, stored);
            if (paused is null && Stopwatch.GetElapsedTime(waiting) > PauseAfter)
            {
                paused = consumer.Assignment;
                consumer.Pause(paused);
                LogPaused(logger, paused.Count);
            }

            if (paused is null)
            {
                await Task.WhenAny(output.WaitToWriteAsync(stoppingToken).AsTask(), Task.Delay(100, stoppingToken));
                stoppingToken.ThrowIfCancellationRequested();
            }
            else if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } early)
            {
                // Fetched before the pause took effect: keep it for the next batch, or its offset would be skipped.
                carried.Add(early);
            }
        }

        if (paused is not null)
        {
            consumer.Resume(consumer.Assignment);
            LogResumed(logger);
        }
    }

    private List<ConsumeResult<byte[]?, byte[]>> Fill(IConsumer<byte[]?, byte[]> consumer, List<ConsumeResult<byte[]?, byte[]>> carried,
        CancellationToken stoppingToken)
    {
        var batch = new List<ConsumeResult<byte[]?, byte[]>>(Math.Min(_options.BatchSize, 4_096));
        batch.AddRange(carried);
        carried.Clear();
        if (batch.Count == 0)
        {
            var first = consumer.Consume(TimeSpan.FromMilliseconds(200));
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

            var next = consumer.Consume(TimeSpan.FromTicks(Math.Max(1, left * TimeSpan.TicksPerSecond / Stopwatch.Frequency)));
            if (next is null)
            {
                break;
            }

            batch.Add(next);
        }

        return batch;
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

    /// <summary>Parses the messages; poison goes to the dead-letter topic; a repeated event id is kept once.</summary>
    private async Task<Batch> PrepareAsync(IProducer<byte[]?, byte[]> deadLetters, List<ConsumeResult<byte[]?, byte[]>> messages, CancellationToken stoppingToken)
    {
        var touches = new List<ResolvedTouch>(messages.Count);
        var seen = new HashSet<string>(messages.Count, StringComparer.Ordinal);
        var duplicates = 0;
        foreach (var message in messages)
        {
            if (!TryParse(message, out var touch, out var reason))
            {
                await DeadLetterAsync(deadLetters, message, reason, stoppingToken);
            }
            else if (seen.Add(touch.Record.EventId))
            {
                touches.Add(touch);
            }
            else
            {
                duplicates++;
            }
        }

        return new Batch(messages, touches, duplicates);
    }

    /// <summary>Offsets of stored batches, in order; the periodic auto-commit sends them to Kafka.</summary>
    private static void StoreOffsets(IConsumer<byte[]?, byte[]> consumer, ConcurrentQueue<Batch> stored)
    {
        while (stored.TryDequeue(out var batch))
        {
            var last = new Dictionary<TopicPartition, ConsumeResult<byte[]?, byte[]>>();
            foreach (var message in batch.Messages)
            {
                last[message.TopicPartition] = message;
            }

            foreach (var message in last.Values)
            {
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

    private static bool TryParse(ConsumeResult<byte[]?, byte[]> message, out ResolvedTouch touch, out string reason)
    {
        touch = null!;
        if (message.Message.Headers?.TryGetLastBytes("schema-version", out var version) == true
            && !version.AsSpan().SequenceEqual("1"u8))
        {
            reason = "unsupported schema-version " + Encoding.UTF8.GetString(version);
            return false;
        }

        if (TouchRecordJson.ContainsNul(message.Message.Value))
        {
            // Postgres cannot store U+0000; the collector replaces it, so only a foreign producer sends one.
            reason = "record holds an escaped NUL (\\u0000), which Postgres cannot store";
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

            parsed.Attribution ??= new();
            touch = new ResolvedTouch(parsed, message.Message.Value);
            if (touch.Keys.Count == 0)
            {
                reason = "touch carries no identity key";
                return false;
            }

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
            { "dlq-partition", Encoding.UTF8.GetBytes(message.Partition.Value.ToString(CultureInfo.InvariantCulture)) },
            { "dlq-offset", Encoding.UTF8.GetBytes(message.Offset.Value.ToString(CultureInfo.InvariantCulture)) },
        };
        foreach (var header in message.Message.Headers ?? [])
        {
            headers.Add(header.Key, header.GetValueBytes());
        }

        await deadLetters.ProduceAsync(_kafka.DeadLetterTopic, new Message<byte[]?, byte[]> { Key = message.Message.Key, Value = message.Message.Value, Headers = headers }, cancellationToken);
        metrics.DeadLettered();
        LogDeadLettered(logger, message.Topic, message.Partition.Value, message.Offset.Value, reason);
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Stored batch of {Count}: waited and resolved in {ResolveMs:F1} ms, written in {WriteMs:F1} ms")]
    private static partial void LogBatch(ILogger logger, int count, double resolveMs, double writeMs);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Assigned {Count} partition(s)")]
    private static partial void LogAssigned(ILogger logger, int count);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Revoked {Count} partition(s)")]
    private static partial void LogRevoked(ILogger logger, int count);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Kafka consumer error: {Code} {Reason}")]
    private static partial void LogKafkaError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Storing batch failed (attempt {Attempt}), retrying in {DelayMs:F0} ms: {Error}")]
    private static partial void LogStoreRetry(ILogger logger, int attempt, double delayMs, string? error);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Paused {Count} partition(s) while the store is unavailable")]
    private static partial void LogPaused(ILogger logger, int count);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Information, Message = "Store recovered; consumption resumed")]
    private static partial void LogResumed(ILogger logger);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Warning, Message = "Dead-lettered {Topic}[{Partition}]@{Offset}: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, string topic, int partition, long offset, string reason);
}
