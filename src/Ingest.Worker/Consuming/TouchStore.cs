using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Ingest.Storage.Touches;
using Ingest.Worker.Identity;
using Polly;
using Polly.Retry;

namespace Ingest.Worker.Consuming;

/// <summary>
/// The two stages after consuming: resolve identities in Redis, then write to Postgres, joined by bounded channels of
/// one batch each so Redis, Postgres and the consumer work on consecutive batches at once; and the retry policy both use.
/// </summary>
internal sealed partial class TouchStore
{
    private readonly IdentityResolver _resolver;
    private readonly TouchBatchWriter _writer;
    private readonly WorkerOptions _options;
    private readonly WorkerMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _retry;

    // One batch waits in front of each stage: enough to keep every stage busy, little to redo after a crash.
    private readonly Channel<TouchBatch> _toResolve = Channel.CreateBounded<TouchBatch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
    private readonly Channel<TouchBatch> _toStore = Channel.CreateBounded<TouchBatch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });

    public TouchStore(IdentityResolver resolver, TouchBatchWriter writer, WorkerOptions options, WorkerMetrics metrics, ILogger logger)
    {
        _resolver = resolver;
        _writer = writer;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _retry = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(static ex => ex is not OperationCanceledException),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            MaxDelay = TimeSpan.FromMilliseconds(options.MaxRetryDelayMs),
            MaxRetryAttempts = int.MaxValue,
            OnRetry = args =>
            {
                _metrics.StoreRetried();
                LogStoreRetry(_logger, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception?.Message);
                return ValueTask.CompletedTask;
            },
        }).Build();
    }

    /// <summary>Batches stored in Postgres, in order, waiting for their offsets to be stored.</summary>
    public ConcurrentQueue<TouchBatch> Stored { get; } = new();

    /// <summary>Where the consumer hands batches over; full while both stages are busy.</summary>
    public ChannelWriter<TouchBatch> Input => _toResolve.Writer;

    /// <summary>Starts both stages; the task ends when <see cref="Input"/> is completed and drained, or faults.</summary>
    public Task Start(CancellationToken cancellationToken)
    {
        var resolving = Task.Run(() => ResolveStageAsync(cancellationToken), CancellationToken.None);
        var storing = Task.Run(() => StoreStageAsync(cancellationToken), CancellationToken.None);
        return Task.WhenAll(resolving, storing);
    }

    private async Task ResolveStageAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var batch in _toResolve.Reader.ReadAllAsync(cancellationToken))
            {
                if (batch.Touches.Count > 0)
                {
                    await _retry.ExecuteAsync(async ct => await _resolver.ResolveAsync(batch.Touches, ct), cancellationToken);
                }

                await _toStore.Writer.WriteAsync(batch, cancellationToken);
            }
        }
        finally
        {
            _toStore.Writer.TryComplete();
        }
    }

    private async Task StoreStageAsync(CancellationToken cancellationToken)
    {
        await foreach (var batch in _toStore.Reader.ReadAllAsync(cancellationToken))
        {
            if (batch.Touches.Count > 0)
            {
                var resolvedIn = Stopwatch.GetElapsedTime(batch.Started);
                var writing = Stopwatch.GetTimestamp();

                // The batch is split by lead into parallel transactions: no two of them touch the same lead, and
                // Postgres uses more than one core while this process prepares the next rows.
                var parts = SplitByLead(batch.Touches, _options.Writers);
                var results = await Task.WhenAll(parts.Select(part => _retry.ExecuteAsync(async ct => await _writer.WriteAsync(part, ct), cancellationToken).AsTask()));
                var writtenIn = Stopwatch.GetElapsedTime(writing);

                // Redis learns what Postgres settled: keys confirmed (or owned elsewhere) and merges. It is a cache, so this may lag.
                foreach (var result in results)
                {
                    await _retry.ExecuteAsync(async _ => await _resolver.ConfirmAsync(result), cancellationToken);
                    _metrics.Stored(result.Inserted, result.Duplicates, result.Merges.Count);
                }

                _metrics.BatchStored(batch.DuplicatesInBatch, Stopwatch.GetElapsedTime(batch.Started));
                LogBatch(_logger, batch.Touches.Count, resolvedIn.TotalMilliseconds, writtenIn.TotalMilliseconds);
            }

            Stored.Enqueue(batch);
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

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Stored batch of {Count}: waited and resolved in {ResolveMs:F1} ms, written in {WriteMs:F1} ms")]
    private static partial void LogBatch(ILogger logger, int count, double resolveMs, double writeMs);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Storing batch failed (attempt {Attempt}), retrying in {DelayMs:F0} ms: {Error}")]
    private static partial void LogStoreRetry(ILogger logger, int attempt, double delayMs, string? error);
}
