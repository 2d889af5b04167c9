using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Ingest.Core.Identity;
using Ingest.Core.Outcomes;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;
using Ingest.Storage.Leads;
using Ingest.Testing;

namespace Ingest.Worker.Tests;

[Collection(KafkaCollection.Name)]
public sealed class OutcomeTests(KafkaCluster kafka) : WorkerTestBase(kafka)
{
    private static readonly OutcomeBuilder Builder = new(new IdentityNormalizer(), new TouchLimits());
    private static readonly DateTimeOffset Nov1 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private IProducer<byte[], byte[]>? _producer;

    private static OutcomeRecord Outcome(string json)
    {
        var payload = JsonSerializer.Deserialize(json, IngestJsonContext.Default.OutcomePayload)!;
        var built = Builder.Build(payload, new OutcomeContext { Door = "api", ReceivedAt = DateTimeOffset.UtcNow });
        Assert.True(built.Record is not null, string.Join("; ", built.Errors.Select(e => e.Message)));
        return built.Record!;
    }

    private async Task ProduceOutcomesAsync(params OutcomeRecord[] outcomes)
    {
        _producer ??= new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = Kafka.BootstrapServers, LingerMs = 1 }).Build();
        foreach (var outcome in outcomes)
        {
            await _producer.ProduceAsync(OutcomeTopic, new Message<byte[], byte[]>
            {
                Key = Encoding.UTF8.GetBytes(outcome.Leads[0].StrongestKey()),
                Value = JsonSerializer.SerializeToUtf8Bytes(outcome, IngestJsonContext.Default.OutcomeRecord),
                Headers = new Headers { { "schema-version", "1"u8.ToArray() } },
            });
        }
    }

    public override async Task DisposeAsync()
    {
        _producer?.Dispose();
        await base.DisposeAsync();
    }

    private async Task WaitForOutcomesAsync(long count)
    {
        long stored = 0;
        for (var i = 0; i < 300 && stored < count; i++)
        {
            stored = await QueryOneAsync<long>("select count(*) from outcomes");
            if (stored < count)
            {
                await Task.Delay(100);
            }
        }

        Assert.Equal(count, stored);
    }

    private async Task<LeadView> LeadAsync(string kind, string value)
    {
        var queries = new LeadQueries(Database.DataSource);
        var id = await queries.FindByIdentityAsync(kind, value, CancellationToken.None);
        Assert.NotNull(id);
        return (await queries.GetLeadAsync(id.Value, TimelinePage.First, CancellationToken.None))!;
    }

    private static string StageJson(string id, string who, string stage, int day) =>
        $$"""{"event_id":"{{id}}","type":"stage","stage":"{{stage}}","email":"{{who}}","occurred_at":"2026-11-{{day:00}}T10:00:00Z"}""";

    [Fact]
    public async Task Stages_OutOfOrderAndDuplicated_GiveTheSameMilestonesAsInOrder()
    {
        StartWorker();
        string[] stages = ["lead", "mql", "sql", "opportunity", "customer"];
        // In order for ada; reversed and every one sent twice (the same event ids) for bob.
        await ProduceOutcomesAsync(stages.Select((s, i) => Outcome(StageJson($"a-{i}", "ada@example.com", s, 2 + i))).ToArray());
        await ProduceOutcomesAsync(stages.Select((s, i) => Outcome(StageJson($"b-{i}", "bob@example.com", s, 2 + i))).Reverse().ToArray());
        await ProduceOutcomesAsync(stages.Select((s, i) => Outcome(StageJson($"b-{i}", "bob@example.com", s, 2 + i))).ToArray());
        await WaitForOutcomesAsync(10);
        await Task.Delay(500);
        Assert.Equal(10, await QueryOneAsync<long>("select count(*) from outcomes"));

        (string, DateTimeOffset)[] expected =
        [
            ("lead", Nov1.AddDays(1).AddHours(10)), ("mql", Nov1.AddDays(2).AddHours(10)), ("sql", Nov1.AddDays(3).AddHours(10)),
            ("opportunity", Nov1.AddDays(4).AddHours(10)), ("customer", Nov1.AddDays(5).AddHours(10)),
        ];
        foreach (var who in new[] { "ada@example.com", "bob@example.com" })
        {
            var lead = await LeadAsync("email", who);
            Assert.Equal(expected, lead.Milestones.Select(static m => (m.Stage, m.ReachedAt)));
            Assert.Equal("customer", lead.Stage);
            Assert.Equal(5, lead.Outcomes.Count);
            Assert.Equal(0, lead.TouchCount);
        }
    }

    [Fact]
    public async Task Regression_IsRecordedButNeverErasesAMilestone()
    {
        StartWorker();
        await ProduceOutcomesAsync(
            Outcome(StageJson("r-1", "cy@example.com", "sql", 3)),
            Outcome(StageJson("r-2", "cy@example.com", "customer", 9)),
            Outcome(StageJson("r-3", "cy@example.com", "sql", 12)),
            // Arrives last but happened first: the sql milestone moves to day 2.
            Outcome(StageJson("r-4", "cy@example.com", "sql", 2)));
        await WaitForOutcomesAsync(4);

        var lead = await LeadAsync("email", "cy@example.com");
        Assert.Equal([("sql", Nov1.AddDays(1).AddHours(10)), ("customer", Nov1.AddDays(8).AddHours(10))], lead.Milestones.Select(static m => (m.Stage, m.ReachedAt)));
        Assert.Equal("sql", lead.Stage);
        Assert.Equal(4, lead.Outcomes.Count(static o => o.Type == "stage"));
    }

    [Fact]
    public async Task Deal_UpdatedThreeTimesOutOfOrder_KeepsTheLatestState_OnBothLeads()
    {
        StartWorker();
        var deal = """{"event_id":"d-{0}","type":"deal","deal_id":"D-7","amount":{1},"currency":"USD","status":"{2}","occurred_at":"2026-11-{3}T10:00:00Z","owner":"rep-{0}","leads":[{"email":"dee@example.com"},{"external_id":"crm-42"}]}""";
        string D(int n, int amount, string status, int day) => deal.Replace("{0}", $"{n}").Replace("{1}", $"{amount}").Replace("{2}", status).Replace("{3}", $"{day:00}");
        await ProduceOutcomesAsync(Outcome(D(1, 100, "open", 2)), Outcome(D(3, 300, "won", 20)), Outcome(D(2, 200, "open", 10)));
        await WaitForOutcomesAsync(3);

        var primary = await LeadAsync("email", "dee@example.com");
        var other = await LeadAsync("external_id", "crm-42");
        Assert.NotEqual(primary.LeadId, other.LeadId);
        foreach (var lead in new[] { primary, other })
        {
            var view = Assert.Single(lead.Deals);
            Assert.Equal(("D-7", "won", 300m, "USD"), (view.DealId, view.Status, view.Amount, view.Currency));
            Assert.Equal(Nov1.AddDays(19).AddHours(10), view.ClosedAt);
            Assert.Equal(primary.LeadId, view.PrimaryLeadId);
            Assert.Equal([primary.LeadId, other.LeadId], view.LeadIds.Order().ToArray() is var ids && ids[0] == primary.LeadId ? ids : ids.Reverse().ToArray());
        }

        Assert.Equal("rep-3", primary.Owner);
    }

    [Fact]
    public async Task OutcomeBeforeAnyTouch_CreatesTheLead_TheTouchesJoinIt_CountsUnchanged()
    {
        StartWorker();
        await ProduceOutcomesAsync(Outcome(StageJson("early-1", "eve@example.com", "mql", 5)));
        await WaitForOutcomesAsync(1);
        var before = await LeadAsync("email", "eve@example.com");
        Assert.Equal(0, before.TouchCount);
        Assert.Null(before.LeadCreatedTouch);

        await ProduceAsync(Touch("""{"event_id":"eve-form","kind":"form","email":"Eve@Example.com","occurred_at":"2026-11-06T09:00:00Z"}"""));
        await WaitForTouchesAsync(1);
        var after = await LeadAsync("email", "eve@example.com");
        Assert.Equal(before.LeadId, after.LeadId);
        Assert.Equal(1, after.TouchCount);
        Assert.Equal("eve-form", after.FirstTouch!.EventId);
        Assert.Equal("eve-form", after.LeadCreatedTouch!.EventId);
        Assert.Equal("mql", Assert.Single(after.Milestones).Stage);
    }

    [Fact]
    public async Task Merge_MovesOutcomesToTheSurvivor()
    {
        StartWorker();
        // An outcome-only lead by email, a touch lead by phone; then one touch names both: the touch lead survives (it has the first touch).
        await ProduceOutcomesAsync(
            Outcome(StageJson("m-1", "fay@example.com", "sql", 8)),
            Outcome("""{"event_id":"m-2","type":"response","channel":"call","by":"rep-9","owner":"rep-9","email":"fay@example.com","occurred_at":"2026-11-08T10:03:00Z"}"""),
            Outcome("""{"event_id":"m-3","type":"deal","deal_id":"D-9","amount":50,"currency":"USD","status":"open","email":"fay@example.com","occurred_at":"2026-11-09T10:00:00Z"}"""));
        await WaitForOutcomesAsync(3);
        var outcomeLead = (await LeadAsync("email", "fay@example.com")).LeadId;
        await ProduceAsync(Touch("""{"event_id":"fay-call","kind":"call","phone":"+14155550177","occurred_at":"2026-11-01T09:00:00Z"}"""));
        await WaitForTouchesAsync(1);
        var touchLead = (await LeadAsync("phone", "+14155550177")).LeadId;
        Assert.NotEqual(outcomeLead, touchLead);

        await ProduceAsync(Touch("""{"event_id":"fay-form","kind":"form","email":"fay@example.com","phone":"+14155550177","occurred_at":"2026-11-10T09:00:00Z"}"""));
        await WaitForTouchesAsync(2);

        var survivor = await LeadAsync("email", "fay@example.com");
        Assert.Equal(touchLead, survivor.LeadId);
        Assert.Contains(outcomeLead, survivor.MergedLeadIds);
        Assert.Equal(["m-1", "m-2", "m-3"], survivor.Outcomes.Select(static o => o.EventId));
        Assert.Equal("rep-9", survivor.Owner);
        Assert.Equal(touchLead, Assert.Single(survivor.Deals).PrimaryLeadId);
        Assert.Equal(2, survivor.TouchCount);
        Assert.Equal(0, await QueryOneAsync<long>("select count(*) from outcomes where lead_id = @outcomeLead", new { outcomeLead }));
        Assert.Equal(0, await QueryOneAsync<long>("select count(*) from outcome_leads where lead_id = @outcomeLead", new { outcomeLead }));
    }
}
