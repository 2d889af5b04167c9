using System.Net;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Dapper;
using Ingest.Core.Governance;
using Ingest.Core.Identity;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;
using Ingest.DevKafka.MockCluster;
using Ingest.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Ingest.Worker.Tests;

[CollectionDefinition(Name)]
public sealed class KafkaCollection : ICollectionFixture<KafkaCluster>
{
    public const string Name = "kafka";
}

/// <summary>The real worker in-process against a fresh database, a Redis key prefix and unique topics.</summary>
public sealed class WorkerHost(IReadOnlyDictionary<string, string> settings) : WebApplicationFactory<Program>
{
    private readonly AssignmentTracker _assignments = new();

    /// <summary>Partitions this worker holds now, as its consumer logged them (assigned minus revoked).</summary>
    public int AssignedPartitions => _assignments.Count;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.ConfigureLogging(logging => logging.AddProvider(_assignments));
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>Starts the host (and so the consumer).</summary>
    public WorkerHost Start()
    {
        _ = Services;
        return this;
    }
}

/// <summary>Follows the consumer's partitions assigned/revoked log events (by event id) to know what a worker holds.</summary>
internal sealed class AssignmentTracker : ILoggerProvider, ILogger
{
    // PartitionBatcher's stable event ids: matched instead of the message text, which may be reworded.
    private const int PartitionsAssigned = 2002;
    private const int PartitionsRevoked = 2003;

    private int _count;

    public int Count => Volatile.Read(ref _count);

    public ILogger CreateLogger(string categoryName) =>
        categoryName == "Ingest.Worker.Consuming.PartitionBatcher" ? this : NullLogger.Instance;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (state is not IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            return;
        }

        var count = values.FirstOrDefault(v => v.Key == "Count").Value as int? ?? 0;
        switch (eventId.Id)
        {
            case PartitionsAssigned:
                Interlocked.Add(ref _count, count);
                break;
            case PartitionsRevoked:
                Interlocked.Add(ref _count, -count);
                break;
        }
    }

    public bool IsEnabled(LogLevel logLevel) => true;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public void Dispose()
    {
    }
}

/// <summary>Per test: a migrated database, Redis prefix, topics, and helpers to produce touches and read the outcome.</summary>
public abstract class WorkerTestBase(KafkaCluster kafka) : IAsyncLifetime
{
    private static readonly TouchBuilder Builder = new(new GovernanceEngine(GovernanceRules.Default), new IdentityNormalizer(), new TouchLimits());
    private readonly List<WorkerHost> _hosts = [];
    private IProducer<byte[], byte[]>? _producer;

    protected KafkaCluster Kafka => kafka;
    protected PostgresDatabase Database { get; } = new();
    protected RedisServer Redis { get; } = new();
    protected string Topic { get; } = kafka.CreateTopic("touches", partitions: 4);
    protected string DeadLetterTopic { get; } = kafka.CreateTopic("dlq", partitions: 1);
    protected string OutcomeTopic { get; } = kafka.CreateTopic("outcomes", partitions: 2);
    protected string OutcomeDeadLetterTopic { get; } = kafka.CreateTopic("outcomes-dlq", partitions: 1);
    protected string GroupId { get; } = TestEnvironment.UniqueName("group");

    public virtual async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        await Redis.InitializeAsync();
        _producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, LingerMs = 1 }).Build();
    }

    public virtual async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        _producer?.Dispose();
        await Redis.DisposeAsync();
        await Database.DisposeAsync();
    }

    protected WorkerHost StartWorker(string? postgresConnectionString = null, string? redisConnectionString = null,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var all = WorkerSettings(postgresConnectionString, redisConnectionString);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }

        var host = new WorkerHost(all);
        _hosts.Add(host);
        return host.Start();
    }

    /// <summary>The worker's configuration for this test: its database, Redis prefix, topics and group, short timeouts.</summary>
    private Dictionary<string, string> WorkerSettings(string? postgresConnectionString = null, string? redisConnectionString = null) => new()
    {
        ["Kafka:BootstrapServers"] = kafka.BootstrapServers,
        ["Kafka:TouchTopic"] = Topic,
        ["Kafka:DeadLetterTopic"] = DeadLetterTopic,
        ["Kafka:OutcomeTopic"] = OutcomeTopic,
        ["Kafka:OutcomeDeadLetterTopic"] = OutcomeDeadLetterTopic,
        ["ConnectionStrings:Postgres"] = postgresConnectionString ?? Database.ConnectionString,
        ["ConnectionStrings:Redis"] = redisConnectionString ?? TestEnvironment.RedisConnectionString,
        ["Redis:KeyPrefix"] = Redis.KeyPrefix,
        ["Worker:GroupId"] = GroupId,
        ["Worker:SessionTimeoutMs"] = "6000",
        ["Worker:BatchTimeoutMs"] = "20",
        ["Worker:MaxRetryDelayMs"] = "500",
    };

    protected static TouchRecord Touch(string json, string door = "api")
    {
        var payload = JsonSerializer.Deserialize(json, IngestJsonContext.Default.TouchPayload)!;
        var built = Builder.Build(payload, new TouchContext { Door = door, ReceivedAt = DateTimeOffset.UtcNow });
        Assert.True(built.IsValid, string.Join("; ", built.Errors.Select(e => e.Message)));
        return built.Record!;
    }

    protected async Task ProduceAsync(params TouchRecord[] touches)
    {
        foreach (var touch in touches)
        {
            await ProduceRawAsync(TouchBuilder.PartitionKey(touch), JsonSerializer.SerializeToUtf8Bytes(touch, IngestJsonContext.Default.TouchRecord));
        }
    }

    /// <summary>Produces many touches at once (acknowledged before it returns), each keyed as the collector keys it.</summary>
    protected async Task ProduceManyAsync(IReadOnlyList<TouchRecord> touches, Func<TouchRecord, string>? key = null)
    {
        foreach (var chunk in touches.Chunk(2_000))
        {
            await Task.WhenAll(chunk.Select(touch => ProduceRawAsync(
                key?.Invoke(touch) ?? TouchBuilder.PartitionKey(touch),
                JsonSerializer.SerializeToUtf8Bytes(touch, IngestJsonContext.Default.TouchRecord))));
        }
    }

    protected async Task ProduceRawAsync(string key, byte[] value, string schemaVersion = "1", string? topic = null) =>
        await _producer!.ProduceAsync(topic ?? Topic, new Message<byte[], byte[]>
        {
            Key = Encoding.UTF8.GetBytes(key),
            Value = value,
            Headers = new Headers { { TouchHeaders.SchemaVersion, Encoding.UTF8.GetBytes(schemaVersion) } },
        });

    /// <summary>Runs <c>Ingest.Worker &lt;args&gt;</c> (the built dll) with this test's settings; its exit code and standard output.</summary>
    protected async Task<(int ExitCode, string Output)> RunWorkerCommandAsync(params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Ingest.Worker.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in WorkerSettings())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        start.Environment["Logging__LogLevel__Default"] = "Warning";
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}: {await error}");
        return (process.ExitCode, await output);
    }

    /// <summary>
    /// A plain consumer joins the test's group (cooperative-sticky, as the worker), waits until it holds partitions, then
    /// leaves without committing anything: a real rebalance in and a real one out, for the worker under test.
    /// </summary>
    protected void JoinAndLeaveGroup(TimeSpan? timeout = null)
    {
        using var other = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            GroupId = GroupId,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            EnableAutoCommit = false,
            SessionTimeoutMs = 6000,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        other.Subscribe(Topic);
        // Generous: with cooperative-sticky the joiner is served only in the second rebalance round, after the worker
        // gives partitions up, and the full suite on 2 shared cores once took more than 20 s for that.
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (other.Assignment.Count == 0 && DateTime.UtcNow < deadline)
        {
            other.Consume(TimeSpan.FromMilliseconds(100));
        }

        Assert.NotEmpty(other.Assignment);
        other.Close();
    }

    /// <summary>Waits until the database holds <paramref name="count"/> touches (or fails after the timeout).</summary>
    protected async Task WaitForTouchesAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        long stored = 0;
        while (DateTime.UtcNow < deadline)
        {
            await using var connection = await Database.DataSource.OpenConnectionAsync();
            stored = await connection.ExecuteScalarAsync<long>("select count(*) from touches");
            if (stored >= count)
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"Expected {count} stored touches, found {stored}.");
    }

    protected async Task<T> QueryOneAsync<T>(string sql, object? args = null)
    {
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        return await connection.QuerySingleAsync<T>(sql, args);
    }

    protected async Task<List<T>> QueryAsync<T>(string sql, object? args = null)
    {
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<T>(sql, args)).ToList();
    }

    /// <summary>A proxy in front of the real Postgres that a test can cut and restore.</summary>
    protected static async Task<TcpForwarder> StartPostgresProxyAsync(int port = 0)
    {
        var target = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString);
        return await StartProxyAsync(target.Host!, target.Port, port);
    }

    /// <summary>A proxy in front of the real Redis that a test can cut and restore.</summary>
    protected static async Task<TcpForwarder> StartRedisProxyAsync(int port = 0)
    {
        var endpoint = StackExchange.Redis.ConfigurationOptions.Parse(TestEnvironment.RedisConnectionString).EndPoints.Single();
        var (host, targetPort) = endpoint switch
        {
            IPEndPoint ip => (ip.Address.ToString(), ip.Port),
            DnsEndPoint dns => (dns.Host, dns.Port),
            _ => throw new InvalidOperationException($"Unsupported Redis endpoint {endpoint}"),
        };
        return await StartProxyAsync(host, targetPort, port);
    }

    private static async Task<TcpForwarder> StartProxyAsync(string host, int targetPort, int port)
    {
        var addresses = await Dns.GetHostAddressesAsync(host);
        var target = new IPEndPoint(addresses.First(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork), targetPort);
        return new TcpForwarder(new IPEndPoint(IPAddress.Loopback, port), target);
    }

    /// <summary>
    /// The worker as its own operating-system process (the built <c>Ingest.Worker.dll</c> beside the tests), in this test's
    /// group, database, Redis prefix and topics: a test can kill it with SIGKILL, which no in-process host allows.
    /// </summary>
    protected WorkerProcess StartWorkerProcess()
    {
        // Environment variables name configuration keys with "__" for ":"; port 0 keeps clear of a local worker's 8081.
        var environment = WorkerSettings().ToDictionary(setting => setting.Key.Replace(":", "__", StringComparison.Ordinal), setting => setting.Value);
        environment["Urls"] = "http://127.0.0.1:0";
        return new WorkerProcess(environment);
    }
}
