using System.Text;
using Ingest.Testing;
using Npgsql;

namespace Ingest.Worker.Tests;

/// <summary><c>Ingest.Worker dlq list|replay</c> run as the built worker, against the real topics and database.</summary>
[Collection(KafkaCollection.Name)]
public sealed class DeadLetterCommandTests(KafkaCluster kafka) : WorkerTestBase(kafka)
{
    private const string BlockReferrer = "alter table touches add constraint touches_referrer_not_blocked check (referrer is null or referrer not like '%blocked.example%')";

    private static List<string> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task ListShowsEachDeadLetter_ReplayAfterAFixStoresItOnce_EvenWhenReplayedTwice()
    {
        await ExecuteAsync(BlockReferrer);
        StartWorker();
        await ProduceAsync(
            Touch("""{"event_id":"ok-1","kind":"form","anonymous_id":"ok-1"}"""),
            Touch("""{"event_id":"blocked-1","kind":"form","anonymous_id":"blocked-1","referrer":"https://blocked.example/"}"""),
            Touch("""{"event_id":"ok-2","kind":"form","anonymous_id":"ok-2"}"""));
        await ProduceRawAsync("k", Encoding.UTF8.GetBytes("""{"event_id":"null-door","kind":"form","door":null,"occurred_at":"2026-11-01T00:00:00Z","received_at":"2026-11-01T00:00:00Z","identities":{"anonymous_id":"nd"}}"""));
        await WaitForTouchesAsync(2);
        Assert.Equal(2, Kafka.ReadAll(DeadLetterTopic, 2).Count);

        var all = Lines((await RunWorkerCommandAsync("dlq", "list")).Output);
        Assert.Equal("dlq: listed=2", all[^1]);
        var blocked = Assert.Single(all, l => l.StartsWith("blocked-1\t", StringComparison.Ordinal)).Split('\t');
        Assert.StartsWith("refused by Postgres (23514)", blocked[1], StringComparison.Ordinal);
        Assert.True(DateTimeOffset.UtcNow - DateTimeOffset.Parse(blocked[2], System.Globalization.CultureInfo.InvariantCulture) < TimeSpan.FromMinutes(5));
        Assert.Single(all, l => l.StartsWith("null-door\tdoor missing", StringComparison.Ordinal));

        Assert.Equal("dlq: listed=1", Lines((await RunWorkerCommandAsync("dlq", "list", "--reason", "23514")).Output)[^1]);
        Assert.Equal("dlq: listed=0", Lines((await RunWorkerCommandAsync("dlq", "list", "--since", "2099-01-01T00:00:00Z")).Output)[^1]);

        // The fix: the constraint goes. Replaying the refused touch stores it through the normal path, once.
        await ExecuteAsync("alter table touches drop constraint touches_referrer_not_blocked");
        Assert.Equal("dlq: replayed=1", Lines((await RunWorkerCommandAsync("dlq", "replay", "--reason", "23514")).Output)[^1]);
        await WaitForTouchesAsync(3);
        Assert.Equal("dlq: replayed=1", Lines((await RunWorkerCommandAsync("dlq", "replay", "--reason", "23514")).Output)[^1]);
        await Task.Delay(TimeSpan.FromSeconds(2)); // the second replay has been consumed by now (batches take 20 ms)

        Assert.Equal(1L, await QueryOneAsync<long>("select count(*) from touches where event_id = 'blocked-1'"));
        Assert.Equal(3L, await QueryOneAsync<long>("select count(*) from touches"));
        Assert.Equal(3L, await QueryOneAsync<long>("select sum(touch_count) from leads where merged_into is null"));
        Assert.Equal(2, Kafka.ReadAll(DeadLetterTopic, 3, TimeSpan.FromSeconds(3)).Count);
    }
}
