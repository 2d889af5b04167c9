using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Channels;
using Ingest.Storage.Leads;
using Ingest.Storage.Touches;
using Ingest.Worker.Identity;
using Npgsql;
using Polly;
using Polly.Retry;
using StackExchange.Redis;

namespace Ingest.Worker.Consuming;

/// <summary>
/// The two stages after consuming: resolve identities in Redis, then write to Postgres, joined by bounded channels of
/// one batch each so Redis, Postgres and the consumer work on consecutive batches at once; and the retry policy both
/// use. Only transient failures are retried (with no attempt limit: an outage loses nothing); a permanent one is
/// narrowed down by splitting the batch in halves until the touches that cause it are alone, and those are
/// dead-lettered with the reason while the rest is stored.
/// </summary>
internal sealed partial class TouchStore
{
    private readonly IdentityResolver _resolver;
    private readonly TouchBatchWriter _writer;
    private readonly DeadLetterPublisher _deadLetters;
    private readonly WorkerOptions _options;
    private readonly WorkerMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _retry;

    // One batch waits in front of each stage: enough to keep every stage busy, little to redo after a crash.
    private readonly Channel<TouchBatch> _toResolve = Channel.CreateBounded<TouchBatch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
    private readonly Channel<TouchBatch> _toStore = Channel.CreateBounded<TouchBatch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });

    public TouchStore(IdentityResolver resolver, TouchBatchWriter writer, DeadLetterPublisher deadLetters, WorkerOptions options, WorkerMetrics metrics, ILogger logger)
    {
        _resolver = resolver;
        _writer = writer;
        _deadLetters = deadLetters;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _retry = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
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

    /// <summary>
    /// Whether a failure may go away by itself (a server down or restarting, a timeout, a serialization failure or
    /// deadlock, a race with another writer); anything else is a property of the data and retrying cannot help.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        OperationCanceledException => false,
        PostgresException pg => pg.IsTransient
            || pg.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.LockNotAvailable
            // connection exceptions, insufficient resources, operator intervention (shutdown, restart), system errors
            || pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("53", StringComparison.Ordinal)
            || pg.SqlState.StartsWith("57P", StringComparison.Ordinal) || pg.SqlState.StartsWith("58", StringComparison.Ordinal),
        NpgsqlException npgsql => npgsql.IsTransient,
        RedisConnectionException or RedisTimeoutException => true,
        RedisServerException redis => redis.Message.StartsWith("LOADING", StringComparison.Ordinal) || redis.Message.StartsWith("BUSY", StringComparison.Ordinal)
            || redis.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal) || redis.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal),
        StaleResolutionException or TimeoutException or IOException or SocketException => true,
        // The host is stopping and has disposed a client (Redis multiplexer, data source): the batch is redelivered.
        ObjectDisposedException => true,
        _ => false,
    };

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
                    var refused = await IsolateAsync(batch, batch.Touches, async (part, ct) =>
                    {
                        await _resolver.ResolveAsync(part, ct);
                        return 0;
                    }, cancellationToken);
                    batch.Touches.RemoveAll(refused.Contains);
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
                var results = new ConcurrentBag<StoredBatch>();
                await Task.WhenAll(parts.Select(part => IsolateAsync(batch, part, async (touches, ct) =>
                {
                    results.Add(await _writer.WriteAsync(touches, ct));
                    return 0;
                }, cancellationToken)));
                var writtenIn = Stopwatch.GetElapsedTime(writing);

                // Redis learns what Postgres settled: keys confirmed (or owned elsewhere) and merges. It is a cache, so
                // this may lag, and a refusal for good only leaves the keys to be checked in Postgres next time.
                foreach (var result in results)
                {
                    try
                    {
                        await _retry.ExecuteAsync(async _ => await _resolver.ConfirmAsync(result), cancellationToken);
                    }
                    catch (Exception ex) when (!IsTransient(ex) && ex is not OperationCanceledException)
                    {
                        LogConfirmFailed(_logger, ex.GetType().Name, ex.Message);
                    }

                    _metrics.Stored(result.Inserted, result.Duplicates, result.Merges.Count);
                }

                _metrics.BatchStored(batch.DuplicatesInBatch, Stopwatch.GetElapsedTime(batch.Started));
                LogBatch(_logger, batch.Touches.Count, resolvedIn.TotalMilliseconds, writtenIn.TotalMilliseconds);
            }

            Stored.Enqueue(batch);
        }
    }

    /// <summary>
    /// Runs <paramref name="step"/> over <paramref name="touches"/> with the retry policy; on a permanent failure splits
    /// them in halves and runs each, down to single touches, which are dead-lettered. Returns the touches refused.
    /// </summary>
    private async Task<HashSet<ResolvedTouch>> IsolateAsync(TouchBatch batch, List<ResolvedTouch> touches,
        Func<List<ResolvedTouch>, CancellationToken, ValueTask<int>> step, CancellationToken cancellationToken)
    {
        var refused = new HashSet<ResolvedTouch>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<List<ResolvedTouch>>();
        pending.Push(touches);
        while (pending.TryPop(out var part))
        {
            try
            {
                await _retry.ExecuteAsync(async ct => await step(part, ct), cancellationToken);
            }
            catch (Exception ex) when (!IsTransient(ex) && ex is not OperationCanceledException)
            {
                if (part.Count == 1)
                {
                    refused.Add(part[0]);
                    await _deadLetters.PublishAsync(batch.SourceOf(part[0]), ReasonOf(ex), cancellationToken);
                    continue;
                }

                LogIsolating(_logger, part.Count, ex.GetType().Name, (ex as PostgresException)?.SqlState);
                var half = part.Count / 2;
                pending.Push(part[half..]);
                pending.Push(part[..half]);
            }
        }

        return refused;
    }

    /// <summary>The dead-letter reason for a permanent failure: what the server said, never the row it refused.</summary>
    private static string ReasonOf(Exception exception) => exception switch
    {
        PostgresException pg => $"refused by Postgres ({pg.SqlState}): {pg.MessageText}",
        RedisException redis => "refused by Redis: " + redis.Message,
        _ => $"cannot be stored: {exception.GetType().Name}: {exception.Message}",
    };

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

    [LoggerMessage(EventId = 2009, Level = LogLevel.Warning, Message = "{Count} touches refused for good ({Error}, SQLSTATE {SqlState}): splitting them to find the ones at fault")]
    private static partial void LogIsolating(ILogger logger, int count, string error, string? sqlState);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "Confirming stored keys in Redis failed ({Error}): {Message}; they are checked in Postgres next time")]
    private static partial void LogConfirmFailed(ILogger logger, string error, string message);
}
