using System.Text;
using Dapper;
using Ingest.Core.Touches;
using Ingest.Testing;
using Npgsql;

namespace Ingest.Worker.Tests;

[Collection(KafkaCollection.Name)]
public sealed class LeadSourceTests(KafkaCluster kafka) : WorkerTestBase(kafka)
{
    // Surviving leads whose touch_count, first, latest or lead-creation touch disagree with the touch rows they own.
    private const string LeadsDisagreeingWithTheirTouches = $"""
        select count(*) from leads l where l.merged_into is null and (
            l.touch_count <> (select count(*) from touches t where t.lead_id = l.lead_id)
            or l.first_event_id <> (select t.event_id from touches t where t.lead_id = l.lead_id order by t.occurred_at, t.event_id limit 1)
            or l.latest_event_id <> (select t.event_id from touches t where t.lead_id = l.lead_id order by t.occurred_at desc, t.event_id desc limit 1)
            or l.created_event_id is distinct from (select t.event_id from touches t where t.lead_id = l.lead_id and {LeadCreation.CreatesLeadSql}
                                                    order by t.occurred_at, t.event_id limit 1))
        """;

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

    private sealed record CreationRow(string? first_event_id, string? first_channel, string? created_event_id, string? created_channel,
        DateTime? created_occurred_at, string? latest_event_id, int touch_count);

    private Task<CreationRow> CreationOfAsync(string kind, string value) => QueryOneAsync<CreationRow>("""
        select l.first_event_id, l.first_channel, l.created_event_id, l.created_channel, l.created_occurred_at, l.latest_event_id, l.touch_count
        from lead_identities i join leads l on l.lead_id = i.lead_id where i.kind = @kind and i.value = @value
        """, new { kind, value });

    [Fact]
    public async Task PaidVisit_DirectVisit_ThenForm_FirstTouchIsTheFirstVisit_LeadCreationTouchIsTheForm()
    {
        StartWorker();
        await ProduceAsync(
            Touch("""{"event_id":"v1","kind":"visit","anonymous_id":"web-1","occurred_at":"2026-11-02T09:00:00Z","page_url":"https://acme.example/blog?utm_source=google&utm_medium=cpc&gclid=Cj0KCQ"}""", "browser"),
            Touch("""{"event_id":"v2","kind":"visit","anonymous_id":"web-1","occurred_at":"2026-11-02T09:05:00Z","page_url":"https://acme.example/pricing"}""", "browser"));
        await WaitForTouchesAsync(2);

        // Visits alone: a visitor, no lead-creation touch yet.
        var visitor = await CreationOfAsync("anonymous_id", "web-1");
        Assert.Equal("v1", visitor.first_event_id);
        Assert.Null(visitor.created_event_id);
        Assert.Null(visitor.created_occurred_at);

        await ProduceAsync(Touch("""{"event_id":"f1","kind":"form","anonymous_id":"web-1","email":"lin@acme.example","occurred_at":"2026-11-02T09:10:00Z","page_url":"https://acme.example/contact"}""", "form"));
        await WaitForTouchesAsync(3);

        var lead = await CreationOfAsync("email", "lin@acme.example");
        Assert.Equal("v1", lead.first_event_id);
        Assert.Equal("paid_search", lead.first_channel);
        Assert.Equal("f1", lead.created_event_id);
        Assert.Equal("direct", lead.created_channel);
        Assert.Equal(new DateTime(2026, 11, 2, 9, 10, 0, DateTimeKind.Utc), lead.created_occurred_at);
        Assert.Equal("f1", lead.latest_event_id);
        Assert.Equal(3, lead.touch_count);

        // A later identified visit is a conversion too, but not an earlier one: the form stays the lead-creation touch.
        await ProduceAsync(Touch("""{"event_id":"v3","kind":"visit","anonymous_id":"web-1","email":"lin@acme.example","occurred_at":"2026-11-09T08:00:00Z","page_url":"https://acme.example/?utm_source=linkedin&utm_medium=paid_social"}""", "browser"));
        await WaitForTouchesAsync(4);
        var later = await CreationOfAsync("email", "lin@acme.example");
        Assert.Equal(("v1", "f1", "v3"), (later.first_event_id, later.created_event_id, later.latest_event_id));
    }

    [Fact]
    public async Task VisitorOnOneDevice_LeadOnAnother_MergedByAnIdentifiedVisit_KeepTheEarliestVisitFirstAndTheFormAsCreation()
    {
        StartWorker();
        await ProduceAsync(
            Touch("""{"event_id":"a1","kind":"visit","anonymous_id":"phone-a","occurred_at":"2026-09-01T00:00:00Z","page_url":"https://acme.example/?utm_source=newsletter&utm_medium=email"}""", "browser"),
            Touch("""{"event_id":"b1","kind":"form","anonymous_id":"laptop-b","email":"kim@acme.example","occurred_at":"2026-10-01T00:00:00Z"}""", "form"),
            Touch("""{"event_id":"c1","kind":"visit","anonymous_id":"tablet-c","occurred_at":"2026-09-15T00:00:00Z"}""", "browser"));
        await WaitForTouchesAsync(3);
        Assert.Null((await CreationOfAsync("anonymous_id", "phone-a")).created_event_id);

        // The visitor on device a identifies with the email: the two histories are one person.
        await ProduceAsync(Touch("""{"event_id":"a2","kind":"visit","anonymous_id":"phone-a","email":"kim@acme.example","occurred_at":"2026-10-05T00:00:00Z"}""", "browser"));
        await WaitForTouchesAsync(4);
        await WaitUntilAsync(async () => (await QueryOneAsync<long>("select count(*) from leads where merged_into is not null")) == 1);

        var merged = await CreationOfAsync("email", "kim@acme.example");
        Assert.Equal("a1", merged.first_event_id);
        Assert.Equal("email", merged.first_channel);
        Assert.Equal("b1", merged.created_event_id);
        Assert.Equal("a2", merged.latest_event_id);
        Assert.Equal(3, merged.touch_count);
        Assert.Null((await CreationOfAsync("anonymous_id", "tablet-c")).created_event_id);
        Assert.Equal(0L, await QueryOneAsync<long>(LeadsDisagreeingWithTheirTouches));
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
    public async Task StoredTouch_KeepsRawAndGovernedUtms_Violations_Consent_Properties_AndItsSummaryColumns()
    {
        StartWorker();
        await ProduceAsync(Touch("""
            {"event_id":"kept-1","kind":"form","email":"kept@example.com","page_url":"https://shop.example.com/pricing",
             "utm_source":"Google","utm_medium":"PPC","utm_campaign":"2026_q4_brand_search","gclid":"Cj0KCQ-kept",
             "consent":{"analytics":true,"ads":false},"properties":{"form":"demo","seats":25,"tags":["b2b","eu"]}}
            """));
        await WaitForTouchesAsync(1);

        var row = await QueryOneAsync<(string source, string medium, string campaign, string click_id, string click_network, string channel, int violation_count, string landing_page)>("""
            select source, medium, campaign, click_id, click_network, channel, violation_count, landing_page from touches where event_id = 'kept-1'
            """);
        Assert.Equal(("google", "paid_search", "2026_q4_brand_search", "Cj0KCQ-kept", "google_ads", "paid_search"), (row.source, row.medium, row.campaign, row.click_id, row.click_network, row.channel));
        Assert.Equal("https://shop.example.com/pricing", row.landing_page);
        Assert.True(row.violation_count >= 2, $"violations: {row.violation_count}");

        // The jsonb record keeps what arrived next to what governance made of it.
        var record = await QueryOneAsync<(string raw_source, string raw_medium, string medium, long violations, bool analytics, bool ads, string form, int seats, string tag)>("""
            select record->'attribution'->'raw'->>'source', record->'attribution'->'raw'->>'medium', record->'attribution'->>'medium',
                   jsonb_array_length(record->'attribution'->'violations'),
                   (record->'consent'->>'analytics')::boolean, (record->'consent'->>'ads')::boolean,
                   record->'properties'->>'form', (record->'properties'->>'seats')::int, record->'properties'->'tags'->>1
            from touches where event_id = 'kept-1'
            """);
        Assert.Equal(("Google", "PPC", "paid_search"), (record.raw_source, record.raw_medium, record.medium));
        Assert.Equal(row.violation_count, record.violations);
        Assert.Equal((true, false), (record.analytics, record.ads));
        Assert.Equal(("demo", 25, "eu"), (record.form, record.seats, record.tag));
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
        var reasons = dead.Select(d => d.Message.Headers.TryGetLastBytes(TouchHeaders.DeadLetterReason, out var r) ? Encoding.UTF8.GetString(r) : "").ToList();
        Assert.All(reasons, r => Assert.False(string.IsNullOrEmpty(r)));
        Assert.Contains(reasons, r => r.Contains("invalid JSON", StringComparison.Ordinal));
        Assert.Contains(reasons, r => r.Contains("schema-version", StringComparison.Ordinal));
        Assert.Contains(reasons, r => r.Contains("NUL", StringComparison.Ordinal));
        Assert.All(dead, d => Assert.Equal(Topic, Encoding.UTF8.GetString(d.Message.Headers.GetLastBytes(TouchHeaders.DeadLetterTopic))));
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
        var proxy = await StartPostgresProxyAsync();
        var port = proxy.Port;
        var viaProxy = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Port = port, Host = "127.0.0.1", Pooling = true, Timeout = 3, CommandTimeout = 5 }.ConnectionString;
        StartWorker(viaProxy);
        await ProduceAsync(Touch("""{"event_id":"pg-0","kind":"form","anonymous_id":"pg"}"""));
        await WaitForTouchesAsync(1);

        await proxy.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await ProduceAsync(Enumerable.Range(1, 50).Select(i => Touch($$"""{"event_id":"pg-{{i}}","kind":"form","anonymous_id":"pg-{{i}}"}""")).ToArray());
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(1L, await QueryOneAsync<long>("select count(*) from touches"));

        await using (await StartPostgresProxyAsync(port))
        {
            await WaitForTouchesAsync(51, TimeSpan.FromSeconds(60));
            Assert.Equal(51L, await QueryOneAsync<long>("select count(distinct event_id) from touches"));
        }
    }

    [Fact]
    public async Task TwoWorkers_OnePersonsKeysOnDifferentPartitionsAtOnce_EndInOneLeadPerPerson()
    {
        var one = StartWorker();
        var two = StartWorker();
        await WaitUntilAsync(() => Task.FromResult(one.AssignedPartitions > 0 && two.AssignedPartitions > 0 && one.AssignedPartitions + two.AssignedPartitions == 4), TimeSpan.FromSeconds(30));
        await ProduceAsync(Touch("""{"event_id":"race-warm","kind":"form","anonymous_id":"race-warm"}"""));
        await WaitForTouchesAsync(1);

        // Each person browses on many devices (anonymous ids), then leaves the same email from each: the device touch and
        // the email touch are keyed differently, so the two workers see one person's keys in parallel batches.
        const int persons = 12, devices = 25;
        var start = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
        var touches = new List<TouchRecord>();
        for (var d = 0; d < devices; d++)
        {
            for (var p = 0; p < persons; p++)
            {
                var at = start.AddMinutes((d * persons) + p);
                touches.Add(Touch($$"""{"event_id":"race-{{p}}-{{d}}-a","kind":"form","anonymous_id":"race-{{p}}-{{d}}","occurred_at":"{{at:O}}"}"""));
                touches.Add(Touch($$"""{"event_id":"race-{{p}}-{{d}}-b","kind":"form","anonymous_id":"race-{{p}}-{{d}}","email":"race{{p}}@example.com","occurred_at":"{{at.AddSeconds(30):O}}"}"""));
            }
        }

        await ProduceManyAsync(touches, key: touch => touch.EventId);
        await WaitForTouchesAsync(touches.Count + 1, TimeSpan.FromSeconds(60));

        for (var p = 0; p < persons; p++)
        {
            var lead = await LeadOfAsync("email", $"race{p}@example.com");
            var survivor = lead.merged_into ?? lead.lead_id;
            Assert.Null(await QueryOneAsync<Guid?>("select merged_into from leads where lead_id = @survivor", new { survivor }));

            // Every device of the person resolves to the same surviving lead (following merges), which holds all their
            // touches, counts each once and keeps the earliest as first touch.
            var owners = await QueryAsync<Guid>("""
                with recursive chain(identity, lead_id, merged_into) as (
                    select i.value, l.lead_id, l.merged_into from lead_identities i join leads l on l.lead_id = i.lead_id
                    where i.kind = 'anonymous_id' and i.value like @pattern
                    union all
                    select c.identity, l.lead_id, l.merged_into from chain c join leads l on l.lead_id = c.merged_into)
                select lead_id from chain where merged_into is null
                """, new { pattern = $"race-{p}-%" });
            Assert.Equal(devices, owners.Count);
            Assert.All(owners, owner => Assert.Equal(survivor, owner));
            var row = await QueryOneAsync<(int touch_count, string first_event_id, long stored)>("""
                select l.touch_count, l.first_event_id, (select count(*) from touches t where t.lead_id = l.lead_id)
                from leads l where l.lead_id = @survivor
                """, new { survivor });
            Assert.Equal(devices * 2, row.touch_count);
            Assert.Equal(devices * 2, row.stored);
            Assert.Equal($"race-{p}-0-a", row.first_event_id);
        }

        Assert.Equal(0L, await QueryOneAsync<long>("select count(*) from touches t join leads l on l.lead_id = t.lead_id where l.merged_into is not null"));
        Assert.Equal(persons + 1L, await QueryOneAsync<long>("select count(*) from leads where merged_into is null"));
    }

    [Fact]
    public async Task RedisUnreachableMidStream_WorkerWaitsAndLosesNothing()
    {
        var proxy = await StartRedisProxyAsync();
        var port = proxy.Port;
        StartWorker(redisConnectionString: $"127.0.0.1:{port},connectTimeout=1000,asyncTimeout=2000,syncTimeout=2000");
        await ProduceAsync(Touch("""{"event_id":"rd-0","kind":"form","anonymous_id":"rd-0"}"""));
        await WaitForTouchesAsync(1);

        await proxy.DisposeAsync();
        await ProduceAsync(Enumerable.Range(1, 50).Select(i => Touch($$"""{"event_id":"rd-{{i}}","kind":"form","anonymous_id":"rd-{{i % 10}}"}""")).ToArray());
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(1L, await QueryOneAsync<long>("select count(*) from touches"));

        await using (await StartRedisProxyAsync(port))
        {
            await WaitForTouchesAsync(51, TimeSpan.FromSeconds(90));
            Assert.Equal(51L, await QueryOneAsync<long>("select count(distinct event_id) from touches"));
            Assert.Equal(10L, await QueryOneAsync<long>("select count(*) from leads where merged_into is null"));
            Assert.Equal(51L, await QueryOneAsync<long>("select sum(touch_count) from leads where merged_into is null"));
        }
    }

    [Fact]
    public async Task PostgresStoppedAndRestartedMidStream_NothingLostNothingCountedTwice()
    {
        await using var postgres = await PrivatePostgres.StartAsync();
        await using var store = NpgsqlDataSource.Create(postgres.ConnectionString);
        async Task<long> StoredAsync()
        {
            await using var connection = await store.OpenConnectionAsync();
            return await connection.ExecuteScalarAsync<long>("select count(*) from touches");
        }

        StartWorker(postgres.ConnectionString);
        var touches = Enumerable.Range(0, 20_000)
            .Select(i => Touch($$"""{"event_id":"ps-{{i}}","kind":"form","anonymous_id":"ps-{{i % 200}}","occurred_at":"{{new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(i):O}}"}"""))
            .ToList();
        await ProduceManyAsync(touches);
        await WaitUntilAsync(async () => await StoredAsync() >= 300, TimeSpan.FromSeconds(60));

        // A real stop: the server goes away mid-batch (immediate mode, as a crash), then comes back through WAL recovery.
        var beforeStop = await StoredAsync();
        await postgres.StopImmediatelyAsync();
        Assert.InRange(beforeStop, 300, touches.Count - 1);
        await Task.Delay(TimeSpan.FromSeconds(3));
        await postgres.StartServerAsync();
        store.Clear();

        await WaitUntilAsync(async () => await StoredAsync() >= touches.Count, TimeSpan.FromSeconds(90));
        await using var connection = await store.OpenConnectionAsync();
        Assert.Equal((long)touches.Count, await connection.ExecuteScalarAsync<long>("select count(*) from touches"));
        Assert.Equal(200L, await connection.ExecuteScalarAsync<long>("select count(*) from leads where merged_into is null"));
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>(LeadsDisagreeingWithTheirTouches));
    }

    [Fact]
    public async Task GracefulStopMidStream_DrainsAndCommitsExactlyWhatItStored_SuccessorStoresTheRest()
    {
        var touches = Enumerable.Range(0, 20_000)
            .Select(i => Touch($$"""{"event_id":"gs-{{i}}","kind":"form","anonymous_id":"gs-{{i % 300}}"}"""))
            .ToList();
        await ProduceManyAsync(touches);
        var first = StartWorker();
        await WaitForTouchesAsync(500);
        await first.DisposeAsync();

        // After a graceful stop the group's committed offsets cover exactly the touches that were stored: nothing
        // stored is left for redelivery and nothing committed was left unstored.
        var stored = await QueryOneAsync<long>("select count(*) from touches");
        using (var probe = new Confluent.Kafka.ConsumerBuilder<Confluent.Kafka.Ignore, Confluent.Kafka.Ignore>(new Confluent.Kafka.ConsumerConfig
               {
                   BootstrapServers = Kafka.BootstrapServers,
                   GroupId = GroupId,
                   EnableAutoCommit = false,
               }).Build())
        {
            var committed = probe.Committed(Enumerable.Range(0, 4).Select(p => new Confluent.Kafka.TopicPartition(Topic, p)), TimeSpan.FromSeconds(10));
            Assert.Equal(stored, committed.Sum(c => Math.Max(0, c.Offset.Value)));
        }

        StartWorker();
        await WaitForTouchesAsync(touches.Count, TimeSpan.FromSeconds(60));
        Assert.Equal(300L, await QueryOneAsync<long>("select count(*) from leads where merged_into is null"));
        Assert.Equal((long)touches.Count, await QueryOneAsync<long>("select sum(touch_count) from leads where merged_into is null"));
    }

    [Fact]
    public async Task WorkerKilledWithSigkillMidStream_RestartedWorkerStoresEveryTouchExactlyOnce()
    {
        const int persons = 400, perPerson = 50;
        var start = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
        var touches = Enumerable.Range(0, persons * perPerson).Select(i =>
        {
            var email = i % 5 == 0 ? $",\"email\":\"sk{i % persons}@example.com\"" : "";
            return Touch($$"""{"event_id":"sk-{{i}}","kind":"form","anonymous_id":"sk-{{i % persons}}"{{email}},"occurred_at":"{{start.AddSeconds(i):O}}"}""");
        }).ToList();
        await ProduceManyAsync(touches);

        long atKill;
        using (var first = StartWorkerProcess())
        {
            await WaitForTouchesAsync(500, TimeSpan.FromSeconds(60));
            first.Kill();
            atKill = await QueryOneAsync<long>("select count(*) from touches");
        }

        // The kill must land while touches were still on their way, or the test proves nothing.
        Assert.InRange(atKill, 500, touches.Count - 1);

        using var second = StartWorkerProcess();
        await WaitForTouchesAsync(touches.Count, TimeSpan.FromSeconds(120));
        await Task.Delay(500);

        Assert.Equal((long)touches.Count, await QueryOneAsync<long>("select count(*) from touches"));
        Assert.Equal((long)persons, await QueryOneAsync<long>("select count(*) from leads where merged_into is null"));
        Assert.Equal((long)touches.Count, await QueryOneAsync<long>("select sum(touch_count) from leads where merged_into is null"));
        Assert.Equal(0L, await QueryOneAsync<long>(LeadsDisagreeingWithTheirTouches));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline && !await condition())
        {
            await Task.Delay(100);
        }

        Assert.True(await condition());
    }
}
