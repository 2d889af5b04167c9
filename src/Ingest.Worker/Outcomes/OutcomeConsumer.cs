using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Ingest.Core.Outcomes;
using Ingest.Core.Serialization;
using Ingest.ServiceDefaults;
using Ingest.Storage.Outcomes;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Ingest.Worker.Outcomes;

/// <summary>
/// Consumes <c>outcomes.v1</c> in its own consumer group (<see cref="WorkerOptions.GroupId"/> + <c>-outcomes</c>, so the
/// touch group never rebalances for it), in batches of up to <see cref="WorkerOptions.BatchSize"/> outcomes or
/// <see cref="WorkerOptions.BatchTimeoutMs"/>, each stored in one transaction by <see cref="OutcomeBatchWriter"/> and only
/// then its offsets stored (at-least-once delivery, exactly-once effect through the event id). Outcomes are rare next to
/// touches, so one serial loop is enough; the dead-letter handling and retry policy follow the touch consumer's
/// (<c>Consuming/TouchConsumer.cs</c>), copied in their minimal form rather than shared while that class is reshaped.
/// </summary>
public sealed partial class OutcomeConsumer(
    IOptions<KafkaOptions> kafka,
    IOptions<WorkerOptions> options,
    OutcomeBatchWriter writer,
    ILogger<OutcomeConsumer> logger) : BackgroundService
{
    private readonly KafkaOptions _kafka = kafka.Value;
    private readonly WorkerOptions _options = options.Value;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    private async Task Run(CancellationToken stoppingToken)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = _kafka.BootstrapServers,
            GroupId = _options.GroupId + "-outcomes",
            EnableAutoCommit = true,
            EnableAutoOffsetStore = false,
            AutoCommitIntervalMs = 1_000,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            SessionTimeoutMs = _options.SessionTimeoutMs,
            HeartbeatIntervalMs = Math.Max(500, _options.SessionTimeoutMs / 5),
            FetchWaitMaxMs = 50,
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
            .SetErrorHandler((_, e) => LogKafkaError(logger, e.Code, e.Reason))
            .Build();
        consumer.Subscribe(_kafka.OutcomeTopic);

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
                LogStoreRetry(logger, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception?.GetType().Name);
                return ValueTask.CompletedTask;
            },
        }).Build();

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var messages = Fill(consumer, stoppingToken);
                if (messages.Count == 0)
                {
                    continue;
                }

                var batch = new List<ReceivedOutcome>(messages.Count);
                foreach (var message in messages)
                {
                    if (TryParse(message, out var outcome, out var reason))
                    {
                        batch.Add(outcome);
                    }
                    else
                    {
                        await DeadLetterAsync(deadLetters, message, reason, stoppingToken);
                    }
                }

                if (batch.Count > 0)
                {
                    var stored = await retry.ExecuteAsync(async ct => await writer.WriteAsync(batch, ct), stoppingToken);
                    LogStored(logger, stored.Stored, stored.Duplicates, stored.LeadsCreated);
                }

                foreach (var message in messages)
                {
                    consumer.StoreOffset(message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // A batch not stored did not store its offsets either: it is redelivered.
        }
        finally
        {
            try
            {
                consumer.Commit();
            }
            catch (KafkaException)
            {
                // Nothing stored since the last commit, or the group is gone.
            }

            consumer.Close();
            deadLetters.Flush(TimeSpan.FromSeconds(5));
        }
    }

    private List<ConsumeResult<byte[]?, byte[]>> Fill(IConsumer<byte[]?, byte[]> consumer, CancellationToken stoppingToken)
    {
        var messages = new List<ConsumeResult<byte[]?, byte[]>>();
        try
        {
            var first = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (first is not { Message: not null, IsPartitionEOF: false })
            {
                return messages;
            }

            messages.Add(first);
            var deadline = DateTime.UtcNow.AddMilliseconds(_options.BatchTimeoutMs);
            while (messages.Count < _options.BatchSize && !stoppingToken.IsCancellationRequested)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || consumer.Consume(left) is not { Message: not null, IsPartitionEOF: false } next)
                {
                    break;
                }

                messages.Add(next);
            }
        }
        catch (ConsumeException ex) when (!ex.Error.IsFatal)
        {
            // For example the topic does not exist yet: keep polling (what was read so far is still stored).
            LogKafkaError(logger, ex.Error.Code, ex.Error.Reason);
            if (messages.Count == 0)
            {
                stoppingToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }
        }

        return messages;
    }

    private static bool TryParse(ConsumeResult<byte[]?, byte[]> message, out ReceivedOutcome outcome, out string reason)
    {
        outcome = null!;
        if (message.Message.Headers?.TryGetLastBytes("schema-version", out var version) == true
            && Encoding.UTF8.GetString(version) != OutcomeRecord.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            reason = "unsupported schema-version " + Encoding.UTF8.GetString(version);
            return false;
        }

        try
        {
            var record = JsonSerializer.Deserialize(message.Message.Value, IngestJsonContext.Default.OutcomeRecord);
            reason = record switch
            {
                null => "message is JSON null",
                { EventId.Length: 0 or > 256 } => "event_id missing or longer than 256 characters",
                { Leads.Count: 0 } => "outcome names no lead",
                { Type: not (OutcomeTypes.Stage or OutcomeTypes.Deal or OutcomeTypes.Response) } => "unknown outcome type",
                _ when record.Leads.Exists(static l => l.LeadId is null && l.Email is null && l.Phone is null && l.ExternalId is null) => "a lead without identity",
                _ => "",
            };
            if (reason.Length > 0)
            {
                return false;
            }

            outcome = new ReceivedOutcome(record!, Encoding.UTF8.GetString(message.Message.Value));
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
            { "dlq-source", Encoding.UTF8.GetBytes($"{message.Topic}/{message.Partition.Value}/{message.Offset.Value}") },
        };
        await deadLetters.ProduceAsync(_kafka.OutcomeDeadLetterTopic, new Message<byte[]?, byte[]> { Key = message.Message.Key, Value = message.Message.Value, Headers = headers },
            cancellationToken);
        LogDeadLettered(logger, message.Topic, message.Partition.Value, message.Offset.Value, reason);
    }

    [LoggerMessage(EventId = 2501, Level = LogLevel.Debug, Message = "Stored outcome batch: {Stored} stored, {Duplicates} duplicates, {LeadsCreated} leads created")]
    private static partial void LogStored(ILogger logger, int stored, int duplicates, int leadsCreated);

    [LoggerMessage(EventId = 2502, Level = LogLevel.Information, Message = "Outcomes: assigned {Count} partition(s)")]
    private static partial void LogAssigned(ILogger logger, int count);

    [LoggerMessage(EventId = 2503, Level = LogLevel.Warning, Message = "Outcome consumer Kafka error: {Code} {Reason}")]
    private static partial void LogKafkaError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(EventId = 2504, Level = LogLevel.Warning, Message = "Storing outcome batch failed (attempt {Attempt}), retrying in {DelayMs:F0} ms: {Error}")]
    private static partial void LogStoreRetry(ILogger logger, int attempt, double delayMs, string? error);

    [LoggerMessage(EventId = 2505, Level = LogLevel.Warning, Message = "Dead-lettered outcome {Topic}[{Partition}]@{Offset}: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, string topic, int partition, long offset, string reason);
}
