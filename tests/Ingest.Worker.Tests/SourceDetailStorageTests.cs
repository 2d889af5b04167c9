using Ingest.Core.Governance;
using Ingest.Storage.Migrations;
using Ingest.Testing;
using Npgsql;

namespace Ingest.Worker.Tests;

[Collection(KafkaCollection.Name)]
public sealed class SourceDetailStorageTests(KafkaCluster kafka) : WorkerTestBase(kafka)
{
    private sealed record DetailRow(
        string? first_event_id, string? first_source_detail, string? first_method, string? created_event_id, string? created_source_detail, string? created_method,
        string? latest_event_id, string? latest_source_detail, string? latest_method);

    private Task<DetailRow> DetailsOfAsync(string kind, string value) => QueryOneAsync<DetailRow>("""
        select l.first_event_id, l.first_source_detail, l.first_method, l.created_event_id, l.created_source_detail, l.created_method,
               l.latest_event_id, l.latest_source_detail, l.latest_method
        from lead_identities i join leads l on l.lead_id = i.lead_id where i.kind = @kind and i.value = @value
        """, new { kind, value });

    [Fact]
    public async Task Merge_RecomputesTheSurvivorsFirstLatestAndLeadCreationSourceDetailAndMethod()
    {
        StartWorker();
        await ProduceAsync(
            Touch("""{"event_id":"sd-a1","kind":"visit","anonymous_id":"sd-phone","occurred_at":"2026-09-01T00:00:00Z","page_url":"https://acme.example/","referrer":"https://news.ycombinator.com/item"}""", "browser"),
            Touch("""{"event_id":"sd-b1","kind":"form","anonymous_id":"sd-laptop","email":"kim@acme.example","occurred_at":"2026-10-01T00:00:00Z","page_url":"https://acme.example/?utm_source=google&utm_medium=cpc&utm_campaign=brand"}""", "form"));
        await WaitForTouchesAsync(2);
        Assert.Equal(
            new DetailRow("sd-b1", "google", "web_form", "sd-b1", "google", "web_form", "sd-b1", "google", "web_form"),
            await DetailsOfAsync("email", "kim@acme.example"));

        // The visitor identifies on the phone: its earlier referred visit becomes the first touch of the merged lead.
        await ProduceAsync(Touch("""{"event_id":"sd-a2","kind":"visit","anonymous_id":"sd-phone","email":"kim@acme.example","occurred_at":"2026-10-05T00:00:00Z","page_url":"https://acme.example/?utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm"}""", "browser"));
        // The merge commits with the touch that caused it.
        await WaitForTouchesAsync(3);
        Assert.Equal(1L, await QueryOneAsync<long>("select count(*) from leads where merged_into is not null"));

        Assert.Equal(
            new DetailRow("sd-a1", "news.ycombinator.com", "visit", "sd-b1", "google", "web_form", "sd-a2", "linkedin", "visit"),
            await DetailsOfAsync("email", "kim@acme.example"));
    }

    [Fact]
    public async Task RecordFromACollectorWithoutMethod_GetsItFromItsDoorAndKind()
    {
        StartWorker();
        var call = Touch("""{"event_id":"sd-old-1","kind":"call","phone":"+14155550142","occurred_at":"2026-10-01T00:00:00Z"}""", "twilio");
        call.Method = null;
        await ProduceAsync(call);
        await WaitForTouchesAsync(1);
        Assert.Equal("call_tracking", await QueryOneAsync<string>("select method from touches where event_id = 'sd-old-1'"));
        Assert.Equal("call_tracking", (await DetailsOfAsync("phone", "+14155550142")).first_method);
    }

    [Fact]
    public async Task Migration0008_BackfillsTheMethodOfOldTouchesAndLeadsAsTouchMethodsDecides_AndLeavesSourceDetailNull()
    {
        (string Door, string Kind)[] stored =
        [
            ("api", "form"), ("api", "call"), ("api", "visit"), ("browser", "visit"), ("browser", "form"), ("form", "form"), ("callrail", "call"),
            ("callrail", "form"), ("twilio", "call"), ("google_ads", "ad"), ("meta", "ad"), ("api", "offline"), ("import", "offline"), ("hubspot", "form"),
            ("somewhere-new", "form"),
        ];
        var lead = Guid.NewGuid();
        await using (var connection = await Database.DataSource.OpenConnectionAsync())
        {
            await using var insertLead = new NpgsqlCommand(
                "insert into leads (lead_id, first_event_id, latest_event_id, created_event_id) values ($1, 'old-0', 'old-12', 'old-1')", connection);
            insertLead.Parameters.Add(new NpgsqlParameter { Value = lead });
            await insertLead.ExecuteNonQueryAsync();
            await using var insert = new NpgsqlCommand("""
                insert into touches (event_id, lead_id, kind, door, occurred_at, received_at, channel, ga4_channel, record)
                select 'old-' || (i - 1), $1, k, d, now(), now(), 'direct', 'Direct', '{}'::jsonb from unnest($2::text[], $3::text[]) with ordinality as s(d, k, i);
                """, connection);
            insert.Parameters.Add(new NpgsqlParameter { Value = lead });
            insert.Parameters.Add(new NpgsqlParameter { Value = stored.Select(static s => s.Door).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = stored.Select(static s => s.Kind).ToArray() });
            await insert.ExecuteNonQueryAsync();

            // The migration again, over rows written as before it (it only adds what is missing).
            await using var migrate = new NpgsqlCommand(DatabaseMigrator.Embedded.Single(static m => m.Version == 8).Sql, connection);
            await migrate.ExecuteNonQueryAsync();
        }

        var methods = await QueryAsync<(string EventId, string Door, string Kind, string? Method, string? SourceDetail)>(
            "select event_id, door, kind, method, source_detail from touches order by event_id");
        Assert.Equal(stored.Length, methods.Count);
        foreach (var row in methods)
        {
            Assert.Equal(TouchMethods.Of(row.Door, row.Kind), row.Method);
            Assert.Null(row.SourceDetail);
        }

        var leadRow = await QueryOneAsync<(string? First, string? Created, string? Latest)>(
            "select first_method, created_method, latest_method from leads where lead_id = @lead", new { lead });
        Assert.Equal(("api", "api", "import"), leadRow);
    }
}
