using Microsoft.Extensions.Options;

namespace Ingest.Worker;

/// <summary>Consumer and batching settings (<c>Worker</c> section), checked by <see cref="WorkerOptionsValidator"/>.</summary>
public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Consumer group; several worker processes in one group split the partitions.</summary>
    public string GroupId { get; set; } = "ingest-worker";

    /// <summary>Most touches per Postgres transaction (see load-tests/RESULTS.md for the measurement).</summary>
    public int BatchSize { get; set; } = 2_000;

    /// <summary>Parallel Postgres transactions one batch is split into, by lead (see load-tests/RESULTS.md).</summary>
    public int Writers { get; set; } = 2;

    /// <summary>Longest a batch waits to fill once its first touch arrived, so latency stays low at low rates.</summary>
    public int BatchTimeoutMs { get; set; } = 50;

    /// <summary>Kafka <c>session.timeout.ms</c>: how soon a dead worker's partitions move to another.</summary>
    public int SessionTimeoutMs { get; set; } = 10_000;

    /// <summary>Longest back-off between retries while Postgres or Redis is unavailable.</summary>
    public int MaxRetryDelayMs { get; set; } = 5_000;
}

/// <summary>Every setting within the range the consumer and librdkafka accept, named in the message.</summary>
public sealed class WorkerOptionsValidator : IValidateOptions<WorkerOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkerOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.GroupId))
        {
            failures.Add($"{WorkerOptions.Section}:{nameof(options.GroupId)} is required (the Kafka consumer group).");
        }

        void Between(int value, int min, int max, string setting)
        {
            if (value < min || value > max)
            {
                failures.Add($"{WorkerOptions.Section}:{setting} must be between {min} and {max} (it is {value}).");
            }
        }

        Between(options.BatchSize, 1, 50_000, nameof(options.BatchSize));
        Between(options.Writers, 1, 16, nameof(options.Writers));
        Between(options.BatchTimeoutMs, 1, 10_000, nameof(options.BatchTimeoutMs));
        // librdkafka's own bounds for session.timeout.ms (group.min/max.session.timeout.ms of the broker may be tighter).
        Between(options.SessionTimeoutMs, 1_000, 300_000, nameof(options.SessionTimeoutMs));
        Between(options.MaxRetryDelayMs, 100, 120_000, nameof(options.MaxRetryDelayMs));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Redis: the connection (<c>ConnectionStrings:Redis</c>) and the one key prefix (<c>Redis:KeyPrefix</c>).</summary>
public sealed class RedisOptions
{
    public const string Section = "Redis";

    /// <summary>StackExchange.Redis configuration string, from <c>ConnectionStrings:Redis</c> (no built-in fallback).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Prefix of every Redis key the worker writes.</summary>
    public string KeyPrefix { get; set; } = "ingest:";
}

/// <summary>A connection string is required and must parse; the key prefix must not be empty.</summary>
public sealed class RedisOptionsValidator : IValidateOptions<RedisOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            failures.Add("ConnectionStrings:Redis is not set: give the Redis configuration (environment variable ConnectionStrings__Redis).");
        }
        else
        {
            try
            {
                _ = StackExchange.Redis.ConfigurationOptions.Parse(options.ConnectionString);
            }
            catch (ArgumentException ex)
            {
                failures.Add("ConnectionStrings:Redis is not a valid StackExchange.Redis configuration: " + ex.Message);
            }
        }

        if (string.IsNullOrWhiteSpace(options.KeyPrefix))
        {
            failures.Add($"{RedisOptions.Section}:{nameof(options.KeyPrefix)} must not be empty (it keeps the worker's keys apart from others in the same Redis).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
