using System.Text;
using Ingest.Testing;
using Npgsql;

namespace Ingest.Worker.Tests;

[Collection(KafkaCollection.Name)]
public sealed class LeadSourceTests(KafkaCluster kafka) : WorkerTestBase(kafka)
{
    private sealed record LeadRow(Guid lead_id, Guid? merged_into, int touch_count, string? first_event_id, string? first_channel, string? latest_event_id, string? latest_channel);

    private Task<LeadRow> LeadOfAsync(string kind, string value) => QueryOneAsync<LeadRow>("""
        select l.lead_id, l.merged_into, l.touch_count, l.first_event_id, l.first_channel, l.latest_event_id, l.latest_channel
        from lead_identities i join leads l on l.lead_id = i.lead_id where i.kind = @kind and i.value = @value
        """, new { kind, value });

    [Fact]
    public async Task FormThenCall_SamePerson_FormStaysFirstAndCallBecomesLatest()
    {
        StartWorker();
        var form = Touch("""{"event_id":"form-1","kind":"form","email":"ada@example.com","phone":"+14155550100","occurred_at":"2026-11-01T09:00:00Z","page_url":"https://example.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand"}""");
        await ProduceAsync(form);
        await WaitForTouchesAsync(1);
        var call = Touch("""{"event_id":"call-1","kind":"call","phone":"(415) 555-0100","occurred_at":"2026-11-05T15:30:00Z"}""", "callrail");
        await ProduceAsync(call);
        await WaitForTouchesAsync(2);

        var lead = await LeadOfAsync("phone", "+14155550100");
        Assert.Equal(2, lead.touch_count);
        Assert.Equal("form-1", lead.first_event_id);
        Assert.Equal("paid_search", lead.first_channel);
        Assert.Equal("call-1", lead.latest_event_id);
        Assert.Equal("offline", lead.latest_channel);
    }

    [Fact]
    public async Task LateArrivingEarlierTouch_BecomesFirstTouch_LaterTouchNeverOverwritesIt()
    {
        StartWorker();
        await ProduceAsync(Touch("""{"event_id":"t-nov","kind":"form","anonymous_id":"anon-7","occurred_at":"2026-11-10T00:00:00Z","referrer":"https://www.linkedin.com/"}"""));
        await WaitForTouchesAsync(1);
        await ProduceAsync(Touch("""{"event_id":"t-oct","kind":"form","anonymous_id":"anon-7","occurred_at":"2026-10-01T00:00:00Z","referrer":"https://chatgpt.com/"}"""));
        await WaitForTouchesAsync(2);
        await ProduceAsync(Touch("""{"event_id":"t-latest","kind":"form","anonymous_id":"anon-7","occurred_at":"2026-11-20T00:00:00Z"}"""));
        await WaitForTouchesAsync(3);

        var lead = await LeadOfAsync("anonymous_id", "anon-7");
        Assert.Equal("t-oct", lead.first_event_id);
        Assert.Equal("ai_search", lead.first_channel);
        Assert.Equal("t-latest", lead.latest_event_id);
        Assert.Equal(3, lead.touch_count);
    }

    [Fact]
    public async Task SameEventIdDeliveredThreeTimes_IsStoredOnceAndCountedOnce()
    {
        StartWorker();
        var touch = Touch("""{"event_id":"dup-1","kind":"form","email":"dup@example.com"}""");
        await ProduceAsync(touch, touch);
        await WaitForTouchesAsync(1);
        await ProduceAsync(touch);
        await ProduceAsync(Touch("""{"event_id":"marker","kind":"form","email":"marker@example.com"}"""));
        await WaitForTouchesAsync(2);

        Assert.Equal(1L, await QueryOneAsync<long>("select count(*) from touches where event_id = 'dup-1'"));
        Assert.Equal(1, (await LeadOfAsync("email", "dup@example.com")).touch_count);
    }

    [Fact]
    public async Task TwoAnonymousHistories_LinkedByEmail_MergeIntoTheLeadWithTheEarliestFirstTouch()
    {
        StartWorker();
        await ProduceAsync(
            Touch("""{"event_id":"a1","kind":"form","anonymous_id":"device-a","occurred_at":"2026-09-01T00:00:00Z","page_url":"https://example.com/?utm_source=newsletter&utm_medium=email&utm_campaign=sept"}"""),
            Touch("""{"event_id":"b1","kind":"form","anonymous_id":"device-b","occurred_at":"2026-10-01T00:00:00Z","referrer":"https://www.bing.com/"}"""));
        await WaitForTouchesAsync(2);
        var a = await LeadOfAsync("anonymous_id", "device-a");
        var b = await LeadOfAsync("anonymous_id", "device-b");
        Assert.NotEqual(a.lead_id, b.lead_id);

        // The same person signs up on device b with an email, then the email shows up with device a's id.
        await ProduceAsync(Touch("""{"event_id":"b2","kind":"form","anonymous_id":"device-b","email":"grace@example.com","occurred_at":"2026-10-02T00:00:00Z"}"""));
        await WaitForTouchesAsync(3);
        await ProduceAsync(Touch("""{"event_id":"a2","kind":"form","anonymous_id":"device-a","email":"grace@example.com","occurred_at":"2026-10-03T00:00:00Z"}"""));
        await WaitForTouchesAsync(4);
        await WaitUntilAsync(async () => (await LeadOfAsync("anonymous_id", "device-b")).lead_id == a.lead_id);

        var survivor = await LeadOfAsync("email", "grace@example.com");
        Assert.Equal(a.lead_id, survivor.lead_id);
        Assert.Equal("a1", survivor.first_event_id);
        Assert.Equal("email", survivor.first_channel);
        Assert.Equal("a2", survivor.latest_event_id);
        Assert.Equal(4, survivor.touch_count);
        Assert.Equal(b.lead_id, await QueryOneAsync<Guid>("select merged_lead_id from lead_merges where survivor_lead_id = @id", new { id = a.lead_id }));
        Assert.Equal(a.lead_id, await QueryOneAsync<Guid>("select merged_into from leads where lead_id = @id", new { id = b.lead_id }));
        Assert.Equal(4L, await QueryOneAsync<long>("select count(*) from touches where lead_id = @id", new { id = a.lead_id }));
    }

    [Fact]
    public async Task RedisFlushedMidStream_KnownIdentitiesKeepTheirLead()
    {
        StartWorker();
        await ProduceAsync(Touch("""{"event_id":"r1","kind":"form","email":"flush@example.com","anonymous_id":"anon-f"}"""));
        await WaitForTouchesAsync(1);
        var before = await LeadOfAsync("email", "flush@example.com");

        await Redis.FlushPrefixAsync();
        await ProduceAsync(
            Touch("""{"event_id":"r2","kind":"form","email":"FLUSH@example.com"}"""),
            Touch("""{"event_id":"r3","kind":"call","anonymous_id":"anon-f","phone":"+442079460958"}"""));
        await WaitForTouchesAsync(3);

        Assert.Equal(1L, await QueryOneAsync<long>("select count(*) from leads where merged_into is null"));
        var after = await LeadOfAsync("phone", "+442079460958");
        Assert.Equal(before.lead_id, after.lead_id);
        Assert.Equal(3, after.touch_count);
    }

    [Fact]
    public async Task PoisonMessages_GoToTheDeadLetterTopicWithAReason_AndThePartitionMovesOn()
    {
        StartWorker();
        await ProduceRawAsync("k", Encoding.UTF8.GetBytes("{not json"));
        await ProduceRawAsync("k", Encoding.UTF8.GetBytes("""{"event_id":"x","kind":"teleport","door":"api","occurred_at":"2026-11-01T00:00:00Z","received_at":"2026-11-01T00:00:00Z"}"""));
        await ProduceRawAsync("k", Encoding.UTF8.GetBytes("{}"), schemaVersion: "99");
        await ProduceRawAsync("k", Encoding.UTF8.GetBytes("""{"event_id":"nul","kind":"form","door":"api","occurred_at":"2026-11-01T00:00:00Z","received_at":"2026-11-01T00:00:00Z","identities":{"anonymous_id":"k"},"referrer":"a\u0000b"}"""));
        await ProduceAsync(Touch("""{"event_id":"after-poison","kind":"form","anonymous_id":"k"}"""));
        await WaitForTouchesAsync(1);

        var dead = Kafka.ReadAll(DeadLetterTopic, 4);
        Assert.Equal(4, dead.Count);
        var reasons = dead.Select(d => d.Message.Headers.TryGetLastBytes("dlq-reason", out var r) ? Encoding.UTF8.GetString(r) : "").ToList();
        Assert.All(reasons, r => Assert.False(string.IsNullOrEmpty(r)));
        Assert.Contains(reasons, r => r.Contains("invalid JSON", StringComparison.Ordinal));
        Assert.Contains(reasons, r => r.Contains("schema-version", StringComparison.Ordinal));
        Assert.Contains(reasons, r => r.Contains("NUL", StringComparison.Ordinal));
        Assert.All(dead, d => Assert.Equal(Topic, Encoding.UTF8.GetString(d.Message.Headers.GetLastBytes("dlq-topic"))));
        Assert.Equal(1L, await QueryOneAsync<long>("select count(*) from touches where event_id = 'after-poison'"));
    }

    [Fact]
    public async Task TwoWorkersInOneGroup_SplitPartitions_EachTouchStoredOnce()
    {
        StartWorker();
        StartWorker();
        var touches = Enumerable.Range(0, 400)
            .Select(i => Touch($$"""{"event_id":"w-{{i}}","kind":"form","anonymous_id":"person-{{i % 37}}","occurred_at":"2026-11-01T00:{{i % 60:00}}:00Z"}"""))
            .ToArray();
        await ProduceAsync(touches);
        await WaitForTouchesAsync(400, TimeSpan.FromSeconds(60));

        Assert.Equal(400L, await QueryOneAsync<long>("select count(distinct event_id) from touches"));
        Assert.Equal(37L, await QueryOneAsync<long>("select count(*) from leads where merged_into is null"));
        Assert.Equal(400L, await QueryOneAsync<long>("select sum(touch_count) from leads where merged_into is null"));
    }

    [Fact]
    public async Task PostgresUnreachableMidStream_WorkerRetriesAndLosesNothing()
    {
        var (proxy, port) = await StartPostgresProxyAsync();
        var viaProxy = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Port = port, Host = "127.0.0.1", Pooling = true, Timeout = 3, CommandTimeout = 5 }.ConnectionString;
        StartWorker(viaProxy);
        await ProduceAsync(Touch("""{"event_id":"pg-0","kind":"form","anonymous_id":"pg"}"""));
        await WaitForTouchesAsync(1);

        await proxy.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await ProduceAsync(Enumerable.Range(1, 50).Select(i => Touch($$"""{"event_id":"pg-{{i}}","kind":"form","anonymous_id":"pg-{{i}}"}""")).ToArray());
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(1L, await QueryOneAsync<long>("select count(*) from touches"));

        (proxy, _) = await StartPostgresProxyAsync(port);
        try
        {
            await WaitForTouchesAsync(51, TimeSpan.FromSeconds(60));
            Assert.Equal(51L, await QueryOneAsync<long>("select count(distinct event_id) from touches"));
        }
        finally
        {
            await proxy.DisposeAsync();
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 100 && !await condition(); i++)
        {
            await Task.Delay(100);
        }

        Assert.True(await condition());
    }
}
