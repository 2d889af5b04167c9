using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Ingest.Core.Outcomes;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;
using Ingest.ServiceDefaults;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Ingest.Collector.Kafka;

/// <summary>Producer settings (<c>Collector:Kafka</c>), checked by <see cref="TouchProducerOptionsValidator"/>.</summary>
public sealed class TouchProducerOptions
{
    public const string Section = "Collector:Kafka";

    /// <summary>Bounded wait for Kafka's acknowledgement; past it the request answers 503 (librdkafka <c>message.timeout.ms</c>).</summary>
    public int AckTimeoutMs { get; set; } = 5_000;

    /// <summary>
    /// librdkafka <c>linger.ms</c>: how long the producer waits to fill a batch. 0 sends at once; what queues while the
    /// idempotent producer's requests are in flight still goes out as one batch. Every single-touch request waits for its
    /// acknowledgement, so a linger is latency each one pays: 2 ms gave 16–19 k touches/s at 64 connections, 0 gave
    /// 20–23 k, batches of 100 alike (load-tests/RESULTS.md, issue 17).
    /// </summary>
    public double LingerMs { get; set; } = 0;

    /// <summary>Bound of the producer's in-memory queue; a full queue answers 503 (back-pressure).</summary>
    public int MaxQueuedMessages { get; set; } = 100_000;

    /// <summary>Seconds clients are told to wait before retrying after a 503.</summary>
    public int RetryAfterSeconds { get; set; } = 2;
}

/// <summary>Fails start-up on a producer setting librdkafka would refuse or that would never answer, naming the setting.</summary>
public sealed class TouchProducerOptionsValidator : IValidateOptions<TouchProducerOptions>
{
    public ValidateOptionsResult Validate(string? name, TouchProducerOptions options)
    {
        var failures = new List<string>();
        void Between(double value, double min, double max, string setting)
        {
            if (!(value >= min && value <= max))
            {
                failures.Add(FormattableString.Invariant($"{TouchProducerOptions.Section}:{setting} must be between {min} and {max} (it is {value})."));
            }
        }

        Between(options.AckTimeoutMs, 1, 300_000, nameof(options.AckTimeoutMs));
        Between(options.LingerMs, 0, 900_000, nameof(options.LingerMs));
        Between(options.MaxQueuedMessages, 1, 10_000_000, nameof(options.MaxQueuedMessages));
        Between(options.RetryAfterSeconds, 1, 3_600, nameof(options.RetryAfterSeconds));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>A touch ready for Kafka: the record and its bytes (<see cref="TouchRecordJson.Encode"/>).</summary>
public readonly record struct EncodedTouch(TouchRecord Record, byte[] Value);

/// <summary>An outcome ready for Kafka: the record and its bytes.</summary>
public readonly record struct EncodedOutcome(OutcomeRecord Record, byte[] Value);

/// <summary>Why a produce did not succeed.</summary>
public enum DeliveryFailure
{
    None,
    QueueFull,
    TimedOut,
    BrokerError,
}

/// <summary>
/// The one Kafka producer of the process (acks=all, idempotent, batching what queues while requests are in flight, bounded queue). A touch is
/// acknowledged to the client only after its delivery report. Touches produced together (a batch request) share one
/// completion that fires when the last report arrives: no task, state machine or thread-pool hop per message.
/// </summary>
public sealed partial class TouchProducer : IDisposable
{
    // One array for every message: librdkafka copies header values when a message is produced.
    private static readonly byte[] SchemaVersionValue = TouchHeaders.CurrentSchemaVersionValue();
    private static readonly byte[] OutcomeSchemaVersionValue = Encoding.ASCII.GetBytes(OutcomeRecord.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
    private static readonly TextMapPropagator Propagator = Propagators.DefaultTextMapPropagator;

    private readonly IProducer<byte[], byte[]> _producer;
    private readonly string _topic;
    private readonly string _outcomeTopic;
    private readonly CollectorMetrics _metrics;
    private readonly ILogger<TouchProducer> _logger;

    public TouchProducer(IOptions<KafkaOptions> kafka, IOptions<TouchProducerOptions> options, CollectorMetrics metrics, KafkaProducerHealth health, ILogger<TouchProducer> logger)
    {
        _topic = kafka.Value.TouchTopic;
        _outcomeTopic = kafka.Value.OutcomeTopic;
        _metrics = metrics;
        _logger = logger;
        var config = CreateConfig(kafka.Value, options.Value);
        _producer = new ProducerBuilder<byte[], byte[]>(config)
            .SetErrorHandler((_, error) =>
            {
                LogKafkaError(_logger, error.Code, error.Reason, error.IsFatal);
                if (error.IsFatal)
                {
                    // Permanent for this producer: every later produce fails, so readiness must say so.
                    health.ReportFatal($"{error.Code}: {error.Reason}");
                }
            })
            .Build();
    }

    /// <summary>The producer's librdkafka settings (also used by the load tests' Kafka ceiling, so both produce alike).</summary>
    public static ProducerConfig CreateConfig(KafkaOptions kafka, TouchProducerOptions options)
    {
        return KafkaClientConfig.Apply(kafka, new ProducerConfig
        {
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = options.LingerMs,
            MessageTimeoutMs = options.AckTimeoutMs,
            QueueBufferingMaxMessages = options.MaxQueuedMessages,
            SocketNagleDisable = true,
            CompressionType = CompressionType.Lz4,
            // Delivery reports carry only what we read: the status.
            DeliveryReportFields = "status",
        });
    }

    /// <summary>
    /// Produces every record without waiting in between (the producer batches them by linger.ms) and completes once
    /// Kafka acknowledged or refused each one; the result holds one outcome per record, in order.
    /// </summary>
    /// <remarks>
    /// A token cancelled before the call produces nothing; cancelled later, it stops the wait (the client has gone)
    /// while the messages already handed to librdkafka are still delivered and counted. The span lasts until the
    /// last delivery report.
    /// </remarks>
    public Task<DeliveryFailure[]> ProduceManyAsync(IReadOnlyList<EncodedTouch> touches, CancellationToken cancellationToken) =>
        ProduceAsync(_topic, SchemaVersionValue, touches.Count,
            i => (touches[i].Record.EventId, Encoding.UTF8.GetBytes(TouchBuilder.PartitionKey(touches[i].Record)), touches[i].Value), cancellationToken);

    /// <summary>
    /// Outcomes go through the same producer (one per process) to their own topic (<see cref="KafkaOptions.OutcomeTopic"/>),
    /// keyed by the primary lead's strongest identity so one person's outcomes keep their order in one partition.
    /// </summary>
    public Task<DeliveryFailure[]> ProduceOutcomesAsync(IReadOnlyList<EncodedOutcome> outcomes, CancellationToken cancellationToken) =>
        ProduceAsync(_outcomeTopic, OutcomeSchemaVersionValue, outcomes.Count,
            i => (outcomes[i].Record.EventId, Encoding.UTF8.GetBytes(outcomes[i].Record.Leads[0].StrongestKey()), outcomes[i].Value), cancellationToken);

    private Task<DeliveryFailure[]> ProduceAsync(string topic, byte[] schemaVersion, int count, Func<int, (string EventId, byte[] Key, byte[] Value)> item,
        CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<DeliveryFailure[]>(cancellationToken);
        }

        var caller = Activity.Current;
        var activity = CollectorMetrics.ActivitySource.StartActivity(topic + " publish", ActivityKind.Producer);
        activity?.SetTag("messaging.system", "kafka");
        activity?.SetTag("messaging.destination.name", topic);
        activity?.SetTag("messaging.batch.message_count", count);

        var deliveries = new Deliveries(count, _metrics, activity);
        for (var i = 0; i < count; i++)
        {
            var (eventId, key, value) = item(i);
            var headers = new Headers
            {
                { TouchHeaders.SchemaVersion, schemaVersion },
                { TouchHeaders.EventId, Encoding.UTF8.GetBytes(eventId) },
            };
            if (activity is not null)
            {
                Propagator.Inject(new PropagationContext(activity.Context, Baggage.Current), headers,
                    static (h, key, value) => h.Add(key, Encoding.UTF8.GetBytes(value)));
            }

            var message = new Message<byte[], byte[]> { Key = key, Value = value, Headers = headers };

            try
            {
                _producer.Produce(topic, message, deliveries.HandlerFor(i));
            }
            catch (ProduceException<byte[], byte[]> ex)
            {
                // Refused before it was queued (a full queue is back-pressure: the client retries after Retry-After).
                LogProduceFailed(_logger, ex.Error.Code, ex.Error.Reason);
                deliveries.Complete(i, ex.Error.Code);
            }
        }

        if (activity is not null)
        {
            // The span ends on the poll thread at the last delivery report; the caller's own span is current again.
            Activity.Current = caller;
        }

        return cancellationToken.CanBeCanceled ? deliveries.Task.WaitAsync(cancellationToken) : deliveries.Task;
    }

    /// <summary>The producer's client handle (for clients that share its connection, and for tests that inject faults).</summary>
    public Handle Handle => _producer.Handle;

    /// <summary>Waits for outstanding deliveries (on shutdown).</summary>
    public void Flush(TimeSpan timeout) => _producer.Flush(timeout);

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(10));
        _producer.Dispose();
    }

    private static DeliveryFailure FailureOf(ErrorCode code) => code switch
    {
        ErrorCode.NoError => DeliveryFailure.None,
        ErrorCode.Local_QueueFull => DeliveryFailure.QueueFull,
        ErrorCode.Local_MsgTimedOut => DeliveryFailure.TimedOut,
        _ => DeliveryFailure.BrokerError,
    };

    /// <summary>
    /// The outcomes of messages produced together. Delivery reports arrive on the producer's poll thread; the last one
    /// ends the span and completes the task, whose continuation then runs on the thread pool (never on the poll thread).
    /// </summary>
    private sealed class Deliveries
    {
        private readonly DeliveryFailure[] _outcomes;
        private readonly TaskCompletionSource<DeliveryFailure[]> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CollectorMetrics _metrics;
        private readonly Activity? _activity;
        private readonly long _started = Stopwatch.GetTimestamp();
        private int _remaining;

        public Deliveries(int count, CollectorMetrics metrics, Activity? activity)
        {
            _outcomes = new DeliveryFailure[count];
            _remaining = count;
            _metrics = metrics;
            _activity = activity;
            metrics.ProduceStarted(count);
            if (count == 0)
            {
                activity?.Dispose();
                _done.SetResult(_outcomes);
            }
        }

        public Task<DeliveryFailure[]> Task => _done.Task;

        public Action<DeliveryReport<byte[], byte[]>> HandlerFor(int index) => report => Complete(index, report.Error.Code);

        public void Complete(int index, ErrorCode code)
        {
            _outcomes[index] = FailureOf(code);
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                _metrics.ProduceFinished(_outcomes.Length, Stopwatch.GetElapsedTime(_started));
                if (_activity is not null)
                {
                    var failed = _outcomes.Count(static o => o != DeliveryFailure.None);
                    if (failed > 0)
                    {
                        _activity.SetStatus(ActivityStatusCode.Error, $"{failed} of {_outcomes.Length} not acknowledged");
                    }

                    _activity.Dispose();
                }

                _done.SetResult(_outcomes);
            }
        }
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Kafka produce failed: {Code} {Reason}")]
    private static partial void LogProduceFailed(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Kafka client error: {Code} {Reason} (fatal: {IsFatal})")]
    private static partial void LogKafkaError(ILogger logger, ErrorCode code, string reason, bool isFatal);
}
