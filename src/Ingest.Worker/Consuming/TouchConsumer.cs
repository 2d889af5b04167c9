using System.Diagnostics;
using Confluent.Kafka;
using Ingest.ServiceDefaults;
using Ingest.Storage.Touches;
using Ingest.Worker.Identity;
using Microsoft.Extensions.Options;

namespace Ingest.Worker.Consuming;

/// <summary>
/// Consumes <c>touches.v1</c> in the <c>ingest-worker</c> group (cooperative-sticky) on a dedicated thread, as
/// Confluent's examples do, and hands batches to <see cref="TouchStore"/>; each batch is stored in one Postgres
/// transaction and only then are its offsets stored, in order (at-least-once delivery, exactly-once effect through
/// idempotent inserts). Unparsable messages go to the dead-letter topic and never block a partition. While Postgres or
/// Redis is down the batch is retried with back-off and jitter and consumption paused; nothing is committed and nothing lost.
/// A consumer error that is not fatal (topic not created yet, coordinator moving) is logged and the loop goes on; a
/// fatal one stops the host with a critical log line.
/// </summary>
public sealed partial class TouchConsumer(
    IOptions<KafkaOptions> kafka,
    IOptions<WorkerOptions> options,
    IdentityResolver resolver,
    TouchBatchWriter writer,
    WorkerMetrics metrics,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggers) : BackgroundService
{
    // How long in-flight batches may take to finish once the worker is asked to stop.
    private static readonly TimeSpan DrainOnStop = TimeSpan.FromSeconds(10);

    // How long the consumer waits for a full pipeline before pausing its partitions (and polling to stay in the group).
    private static readonly TimeSpan PauseAfter = TimeSpan.FromSeconds(2);

    private readonly KafkaOptions _kafka = kafka.Value;
    private readonly WorkerOptions _options = options.Value;
    private readonly ILogger _logger = loggers.CreateLogger<TouchConsumer>();

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Consume() blocks: the loop gets a thread of its own, synchronous, rather than a thread-pool thread.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Run(stoppingToken);
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "touch-consumer",
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>The consumer's librdkafka settings.</summary>
    public static ConsumerConfig CreateConsumerConfig(KafkaOptions kafka, WorkerOptions options) => KafkaClientConfig.Apply(kafka, new ConsumerConfig
    {
        GroupId = options.GroupId,
        EnableAutoCommit = true,
        EnableAutoOffsetStore = false,
        AutoCommitIntervalMs = 1_000,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
        SessionTimeoutMs = options.SessionTimeoutMs,
        HeartbeatIntervalMs = Math.Max(500, options.SessionTimeoutMs / 5),
        FetchWaitMaxMs = 10,
    });

    private void Run(CancellationToken stoppingToken)
    {
        using var deadLetters = new DeadLetterPublisher(_kafka, metrics, loggers.CreateLogger<DeadLetterPublisher>());
        using var batcher = new PartitionBatcher(CreateConsumerConfig(_kafka, _options), _kafka.TouchTopic, _options, metrics, loggers.CreateLogger<PartitionBatcher>());
        var store = new TouchStore(resolver, writer, deadLetters, _options, metrics, loggers.CreateLogger<TouchStore>());
        using var drain = new CancellationTokenSource();
        var stages = store.Start(drain.Token);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (batcher.FatalError is { } fatal)
                {
                    StopOnFatal(fatal);
                    break;
                }

                batcher.StoreOffsets(store.Stored);
                var messages = batcher.Fill(stoppingToken);
                if (messages.Count == 0)
                {
                    continue;
                }

                var batch = Prepare(deadLetters, messages, stoppingToken);
                HandOver(batcher, store, batch, stages, stoppingToken);
                metrics.BatchHandedOver(batch.Messages.Count);
            }
        }
        catch (KafkaException ex) when (ex.Error.IsFatal)
        {
            StopOnFatal(ex.Error);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: a batch not handed over was not stored, so neither were its offsets; it is redelivered.
        }
        finally
        {
            // Let the batches in flight finish (bounded), store their offsets, then leave the group cleanly.
            store.Input.TryComplete();
            drain.CancelAfter(DrainOnStop);
            try
            {
                stages.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                // Not finished in time: those batches are redelivered to whoever owns their partitions next.
            }

            batcher.StoreOffsets(store.Stored);
            try
            {
                batcher.Close();
            }
            catch (KafkaException ex) when (ex.Error.IsFatal)
            {
                // Already reported; a consumer in a fatal state cannot leave the group cleanly.
            }
        }
    }

    private void StopOnFatal(Error error)
    {
        LogFatal(_logger, error.Code, error.Reason);
        lifetime.StopApplication();
    }

    /// <summary>Parses the messages; poison goes to the dead-letter topic; a repeated event id is kept once.</summary>
    private static TouchBatch Prepare(DeadLetterPublisher deadLetters, List<ConsumeResult<byte[]?, byte[]>> messages, CancellationToken stoppingToken)
    {
        var touches = new List<ResolvedTouch>(messages.Count);
        var seen = new HashSet<string>(messages.Count, StringComparer.Ordinal);
        var sources = new Dictionary<ResolvedTouch, ConsumeResult<byte[]?, byte[]>>(messages.Count, ReferenceEqualityComparer.Instance);
        var duplicates = 0;
        foreach (var message in messages)
        {
            if (!TouchMessageParser.TryParse(message.Message, out var touch, out var reason))
            {
                deadLetters.PublishAsync(message, reason, stoppingToken).GetAwaiter().GetResult();
            }
            else if (seen.Add(touch.Record.EventId))
            {
                touches.Add(touch);
                sources[touch] = message;
            }
            else
            {
                duplicates++;
            }
        }

        return new TouchBatch(messages, touches, duplicates, sources);
    }

    /// <summary>
    /// Passes the batch to the store. While the pipeline is full (Postgres or Redis slow or down) the consumer waits;
    /// past <see cref="PauseAfter"/> it pauses its partitions and keeps polling so it stays in the group.
    /// </summary>
    private static void HandOver(PartitionBatcher batcher, TouchStore store, TouchBatch batch, Task stages, CancellationToken stoppingToken)
    {
        var waiting = Stopwatch.GetTimestamp();
        while (!store.Input.TryWrite(batch))
        {
            if (stages.IsFaulted)
            {
                stages.GetAwaiter().GetResult(); // a stage failed for good: stop the worker rather than consume without storing
            }

            batcher.StoreOffsets(store.Stored);
            if (!batcher.Paused && Stopwatch.GetElapsedTime(waiting) > PauseAfter)
            {
                batcher.PauseAll();
            }

            if (batcher.Paused)
            {
                batcher.PollWhilePaused();
            }
            else
            {
                store.Input.WaitToWriteAsync(stoppingToken).AsTask().Wait(100, stoppingToken);
            }
        }

        if (batcher.Paused)
        {
            batcher.ResumeAll();
        }
    }

    [LoggerMessage(EventId = 2012, Level = LogLevel.Critical, Message = "Kafka consumer failed fatally ({Code}: {Reason}); stopping the worker")]
    private static partial void LogFatal(ILogger logger, ErrorCode code, string reason);
}
