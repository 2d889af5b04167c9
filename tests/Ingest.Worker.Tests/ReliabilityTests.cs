using System.Text;
using System.Text.Json;
using Ingest.Core.Touches;
using Ingest.Testing;
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
}
