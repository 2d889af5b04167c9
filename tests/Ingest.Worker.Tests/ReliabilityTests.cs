using System.Text;
using System.Text.Json;
using Ingest.Core.Touches;
using Ingest.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Ingest.Worker.Tests;

/// <summary>Issue #12: permanent errors, rebalances, bounded memory and consumer errors, each against the real servers.</summary>
[Collection(KafkaCollection.Name)]
public sealed class ReliabilityTests(KafkaCluster kafka) : WorkerTestBase(kafka)
{
    private static string ReasonOf(Confluent.Kafka.ConsumeResult<byte[]?, byte[]> dead) =>
        dead.Message.Headers.TryGetLastBytes(TouchHeaders.DeadLetterReason, out var reason) ? Encoding.UTF8.GetString(reason) : "";

    private static string EventIdOf(Confluent.Kafka.ConsumeResult<byte[]?, byte[]> message) =>
        JsonDocument.Parse(message.Message.Value).RootElement.GetProperty("event_id").GetString()!;

    [Fact]
    public async Task RecordWithNullDoor_IsDeadLettered_TheTouchesAfterItAreStored()
    {
        StartWorker();
        await ProduceRawAsync("k", Encoding.UTF8.GetBytes("""{"event_id":"null-door","kind":"form","door":null,"occurred_at":"2026-11-01T00:00:00Z","received_at":"2026-11-01T00:00:00Z","identities":{"anonymous_id":"nd"}}"""));
        await ProduceAsync(Enumerable.Range(0, 5).Select(i => Touch($$"""{"event_id":"after-null-door-{{i}}","kind":"form","anonymous_id":"nd-{{i}}"}""")).ToArray());

        await WaitForTouchesAsync(5, TimeSpan.FromSeconds(20));
        var dead = Assert.Single(Kafka.ReadAll(DeadLetterTopic, 1));
        Assert.Equal("null-door", EventIdOf(dead));
        Assert.Contains("door", ReasonOf(dead), StringComparison.Ordinal);
        Assert.Equal(5L, await QueryOneAsync<long>("select count(*) from touches where event_id like 'after-null-door-%'"));
    }

    [Fact]
    public async Task ValueOnlyPostgresRefuses_IsIsolatedByBisection_AndDeadLettered_TheRestOfTheBatchIsStored()
    {
        // A constraint the parser knows nothing about: only Postgres can tell this touch is bad, and it always will.
        await using (var connection = await Database.DataSource.OpenConnectionAsync())
        {
            await using var alter = new NpgsqlCommand("alter table touches add constraint touches_referrer_not_blocked check (referrer is null or referrer not like '%blocked.example%')", connection);
            await alter.ExecuteNonQueryAsync();
        }

        var touches = Enumerable.Range(0, 40)
            .Select(i => Touch(i == 13
                ? """{"event_id":"bad-13","kind":"form","anonymous_id":"bis-13","referrer":"https://blocked.example/"}"""
                : $$"""{"event_id":"bis-{{i}}","kind":"form","anonymous_id":"bis-{{i}}","referrer":"https://ok.example/"}"""))
            .ToArray();
        await ProduceManyAsync(touches, key: _ => "one-partition");
        StartWorker(settings: new Dictionary<string, string> { ["Worker:Writers"] = "1" });

        await WaitForTouchesAsync(39, TimeSpan.FromSeconds(30));
        var dead = Assert.Single(Kafka.ReadAll(DeadLetterTopic, 1));
        Assert.Equal("bad-13", EventIdOf(dead));
        Assert.Contains("touches_referrer_not_blocked", ReasonOf(dead), StringComparison.Ordinal);
        Assert.Equal(0L, await QueryOneAsync<long>("select count(*) from touches where event_id = 'bad-13'"));
        Assert.Equal(39L, await QueryOneAsync<long>("select coalesce(sum(touch_count), 0) from leads where merged_into is null"));
    }

    [Fact]
    public async Task ConsumerJoinsAndLeavesTheGroupDuringAStream_EveryEventIdStoredExactlyOnce()
    {
        // Long batches (5 s) so a revoke and the re-assignment after it can fall inside the filling of one batch.
        var worker = StartWorker(settings: new Dictionary<string, string> { ["Worker:BatchTimeoutMs"] = "5000", ["Worker:BatchSize"] = "20000" });
        await WaitUntilAsync(() => worker.AssignedPartitions == 4, TimeSpan.FromSeconds(30));

        const int count = 3_000;
        var ids = Enumerable.Range(0, count).Select(i => $"rb-{i}").ToList();
        var stream = Task.Run(async () =>
        {
            foreach (var chunk in ids.Chunk(30))
            {
                await ProduceManyAsync(chunk.Select(id => Touch($$"""{"event_id":"{{id}}","kind":"form","anonymous_id":"p-{{id}}"}""")).ToList());
                await Task.Delay(100);
            }
        });
        for (var round = 0; round < 3 && !stream.IsCompleted; round++)
        {
            await Task.Run(() => JoinAndLeaveGroup());
            await Task.Delay(500);
        }

        await stream;
        await WaitForTouchesAsync(count, TimeSpan.FromSeconds(60));
        var stored = await QueryAsync<string>("select event_id from touches");
        Assert.Equal(ids.Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
        Assert.Equal((long)count, await QueryOneAsync<long>("select sum(touch_count) from leads where merged_into is null"));
    }

    [Fact]
    public async Task ConsumerJoinsAndLeavesTheGroupDuringAStream_WhileTheStoreStalls_EveryEventIdStoredExactlyOnce()
    {
        // The store stalls for a few seconds so the worker holds fetched messages (and pauses) when its partitions are
        // revoked and handed back: the re-fetched messages must be kept, and later offsets never committed past a gap.
        var proxy = await StartPostgresProxyAsync();
        var port = proxy.Port;
        var viaProxy = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Port = port, Host = "127.0.0.1", Pooling = true, Timeout = 3, CommandTimeout = 5 }.ConnectionString;
        var worker = StartWorker(viaProxy);
        await WaitUntilAsync(() => worker.AssignedPartitions == 4, TimeSpan.FromSeconds(30));

        // A stream of 20 touches every 80 ms from before the stall until well after the rebalance and the recovery.
        var ids = new List<string>();
        using var stop = new CancellationTokenSource();
        var stream = Task.Run(async () =>
        {
            for (var chunk = 0; !stop.IsCancellationRequested && chunk < 1_000; chunk++)
            {
                var batch = Enumerable.Range(0, 20).Select(i => $"rb-{chunk}-{i}").ToList();
                await ProduceManyAsync(batch.Select(id => Touch($$"""{"event_id":"{{id}}","kind":"form","anonymous_id":"p-{{id}}"}""")).ToList());
                lock (ids)
                {
                    ids.AddRange(batch);
                }

                await Task.Delay(80);
            }
        });
        await Task.Delay(1_000);
        await proxy.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await Task.Delay(2_500);
        await Task.Run(() => JoinAndLeaveGroup());
        await Task.Delay(500);

        await using (await StartPostgresProxyAsync(port))
        {
            await Task.Delay(3_000);
            await stop.CancelAsync();
            await stream;
            await WaitForTouchesAsync(ids.Count, TimeSpan.FromSeconds(60));
        }

        Assert.True(ids.Count > 1_000, $"only {ids.Count} touches streamed");
        var stored = await QueryAsync<string>("select event_id from touches");
        Assert.Equal(ids.Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
        Assert.Equal((long)ids.Count, await QueryOneAsync<long>("select sum(touch_count) from leads where merged_into is null"));
    }

    [Fact]
    public async Task LongStoreOutageWithARebalance_BatchesAndHeldMessagesStayBounded_NothingLost()
    {
        using var meters = new WorkerMeters();
        var proxy = await StartPostgresProxyAsync();
        var port = proxy.Port;
        var viaProxy = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Port = port, Host = "127.0.0.1", Pooling = true, Timeout = 3, CommandTimeout = 5 }.ConnectionString;
        var worker = StartWorker(viaProxy, settings: new Dictionary<string, string> { ["Worker:BatchSize"] = "50" });
        await ProduceAsync(Touch("""{"event_id":"out-warm","kind":"form","anonymous_id":"out-warm"}"""));
        await WaitForTouchesAsync(1);

        await proxy.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        const int count = 3_000;
        await ProduceManyAsync(Enumerable.Range(0, count).Select(i => Touch($$"""{"event_id":"out-{{i}}","kind":"form","anonymous_id":"out-{{i % 500}}"}""")).ToList());
        await Task.Delay(TimeSpan.FromSeconds(3)); // past the 2 s after which the worker pauses its partitions
        await Task.Run(() => JoinAndLeaveGroup());
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(1L, await QueryOneAsync<long>("select count(*) from touches"));

        await using (await StartPostgresProxyAsync(port))
        {
            await WaitForTouchesAsync(count + 1, TimeSpan.FromSeconds(90));
        }

        Assert.Equal(count + 1L, await QueryOneAsync<long>("select sum(touch_count) from leads where merged_into is null"));
        Assert.True(meters.Batches > count / 50, $"only {meters.Batches} batches");
        Assert.InRange(meters.MaxBatch, 1, 50);
        // The pipeline holds at most a batch in each stage, one in each channel and the one waiting to be handed over.
        Assert.InRange(meters.MaxHeld, 1, 6 * 50);
        Assert.Equal(4, worker.AssignedPartitions);
    }

    [Fact]
    public async Task WorkerStartedBeforeItsTopicExists_KeepsRunning_AndStoresTouchesOnceTheTopicIsCreated()
    {
        var topic = TestEnvironment.UniqueName("late");
        var worker = StartWorker(settings: new Dictionary<string, string>
        {
            ["Kafka:TouchTopic"] = topic,
            // How soon the consumer looks for the topic again; production topics exist before the worker starts.
            ["Kafka:Client:topic.metadata.refresh.interval.ms"] = "1000",
        });
        var lifetime = worker.Services.GetRequiredService<IHostApplicationLifetime>();
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the worker stopped because its topic did not exist yet");

        Kafka.Cluster.CreateTopic(topic, 2);
        var touch = Touch("""{"event_id":"late-topic","kind":"form","anonymous_id":"late"}""");
        await ProduceRawAsync(TouchBuilder.PartitionKey(touch), JsonSerializer.SerializeToUtf8Bytes(touch, Ingest.Core.Serialization.IngestJsonContext.Default.TouchRecord), topic: topic);

        await WaitForTouchesAsync(1, TimeSpan.FromSeconds(30));
        Assert.False(lifetime.ApplicationStopping.IsCancellationRequested);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !condition())
        {
            await Task.Delay(100);
        }

        Assert.True(condition());
    }
}
