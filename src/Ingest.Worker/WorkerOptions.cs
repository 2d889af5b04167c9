using System.ComponentModel.DataAnnotations;

namespace Ingest.Worker;

/// <summary>Consumer and batching settings (<c>Worker</c> section).</summary>
public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Consumer group; several worker processes in one group split the partitions.</summary>
    [Required]
    public string GroupId { get; set; } = "ingest-worker";

    /// <summary>Most touches per Postgres transaction (see load-tests/RESULTS.md for the measurement).</summary>
    [Range(1, 50_000)]
    public int BatchSize { get; set; } = 2_000;

    /// <summary>Parallel Postgres transactions one batch is split into, by lead (see load-tests/RESULTS.md).</summary>
    [Range(1, 16)]
    public int Writers { get; set; } = 2;

    /// <summary>Longest a batch waits to fill once its first touch arrived, so latency stays low at low rates.</summary>
    [Range(1, 10_000)]
    public int BatchTimeoutMs { get; set; } = 50;

    /// <summary>Kafka <c>session.timeout.ms</c>: how soon a dead worker's partitions move to another.</summary>
    [Range(1_000, 300_000)]
    public int SessionTimeoutMs { get; set; } = 10_000;

    /// <summary>Longest back-off between retries while Postgres or Redis is unavailable.</summary>
    [Range(100, 120_000)]
    public int MaxRetryDelayMs { get; set; } = 5_000;

    /// <summary>Prefix of every Redis key the worker writes (<c>Redis:KeyPrefix</c> overrides it).</summary>
    public string RedisKeyPrefix { get; set; } = "ingest:";
}
