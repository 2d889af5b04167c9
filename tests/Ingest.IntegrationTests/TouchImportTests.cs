using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;

namespace Ingest.IntegrationTests;

/// <summary><c>POST /v1/imports/touches</c> through Kafka and the worker: offline touches from a file, each stored once however often the file is sent.</summary>
public sealed class TouchImportTests(PipelineHost host) : IClassFixture<PipelineHost>
{
    private const string Header = "occurred_at,email,phone,external_id,event_code,source,medium,campaign,booth\n";

    private static StringContent Csv(string text) => new(text, Encoding.UTF8, "text/csv");

    [Fact]
    public async Task Import_SameFileTwice_StoresEachTouchOnce_EventCodeSetsChannelAndCampaign_UnknownCodeIsARowError()
    {
        using var server = host.CreateClient(CollectorHost.ServerKey);
        const string File = Header
            + "2026-06-10T15:00:00Z, Grace@Example.com ,,,saastr26,,,,B12\n"
            + "2026-06-10T16:00:00Z,,+1 415 555 0101,,,Trade Show,trade show,fall_fair,\n"
            + "2026-06-10T17:00:00Z,linus@example.com,,,NOPE26,,,,\n";
        var first = await server.PostAsync("/v1/imports/touches", Csv(File));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var answer = await first.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((2, 1, 0), (answer.GetProperty("accepted").GetInt32(), answer.GetProperty("rejected").GetInt32(), answer.GetProperty("unavailable").GetInt32()));
        var rows = answer.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(["accepted", "accepted", "rejected"], rows.Select(static r => r.GetProperty("status").GetString()));
        var bad = rows[2];
        Assert.Equal((3, 4, "event_code", "unknown_event_code"), (bad.GetProperty("row").GetInt32(), bad.GetProperty("line").GetInt32(),
            bad.GetProperty("errors")[0].GetProperty("field").GetString(), bad.GetProperty("errors")[0].GetProperty("code").GetString()));
        var eventIds = rows.Take(2).Select(static r => r.GetProperty("event_id").GetString()!).ToList();
        Assert.All(eventIds, static id => Assert.Matches("^import:[0-9a-f]{64}$", id));

        // The same file again: the same event ids, so the worker stores nothing new.
        var second = await (await server.PostAsync("/v1/imports/touches", Csv(File))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(eventIds, second.GetProperty("rows").EnumerateArray().Take(2).Select(static r => r.GetProperty("event_id").GetString()));

        // One more touch for each identity, behind the repeated ones in their Kafka partitions (same keys): once these
        // are stored, the repeats have been consumed too.
        var sentinels = await server.PostAsync("/v1/imports/touches", Csv(Header
            + "2026-06-11T09:00:00Z,grace@example.com,,,,,,,\n"
            + "2026-06-11T09:00:00Z,,+14155550101,,,,,,\n"));
        Assert.Equal(2, (await sentinels.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32());
        await host.WaitForCountAsync("select count(*) from touches where door = 'import'", 4);
        using var reader = host.CreateClient(CollectorHost.ReadKey);
        // The original and the sentinel each: the repeat did not count again.
        Assert.Equal(2, (await reader.GetFromJsonAsync<JsonElement>("/v1/leads?email=grace@example.com")).GetProperty("touch_count").GetInt32());
        Assert.Equal(2, (await reader.GetFromJsonAsync<JsonElement>("/v1/leads?phone=%2B14155550101")).GetProperty("touch_count").GetInt32());

        await using var connection = await host.Database.DataSource.OpenConnectionAsync();
        var scan = await connection.QuerySingleAsync<(string Kind, string Channel, string Campaign, string Booth)>(
            "select kind, channel, campaign, record->'properties'->>'booth' from touches where event_id = @id", new { id = eventIds[0] });
        // SAASTR26 (matched case-insensitively) is channel events, campaign saastr_2026 in deploy/governance/default.yaml.
        Assert.Equal(("offline", "events", "saastr_2026", "B12"), scan);
        var list = await connection.QuerySingleAsync<(string Kind, string Channel, string Source, string Medium)>(
            "select kind, channel, source, medium from touches where event_id = @id", new { id = eventIds[1] });
        // No event code: governance as for any touch ("trade show" is an alias of the events medium).
        Assert.Equal(("offline", "events", "trade show", "events"), list);
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("select count(*) from lead_identities where value = 'linus@example.com'"));
    }

    [Fact]
    public async Task Import_OnlyAServerKey_AndOnlyCsvWithTheHeader()
    {
        const string File = Header + "2026-06-12T10:00:00Z,keyless@example.com,,,,,,,\n";
        foreach (var (key, expected) in new[] { (CollectorHost.WriteKey, HttpStatusCode.Forbidden), (CollectorHost.ReadKey, HttpStatusCode.Forbidden), ((string?)null, HttpStatusCode.Unauthorized) })
        {
            using var client = host.CreateClient(key);
            Assert.Equal(expected, (await client.PostAsync("/v1/imports/touches", Csv(File))).StatusCode);
        }

        using var server = host.CreateClient(CollectorHost.ServerKey);
        var json = await server.PostAsync("/v1/imports/touches", new StringContent("""[{"email":"a@b.c"}]""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
        var noHeader = await server.PostAsync("/v1/imports/touches", Csv("occurred_at,email\n2026-06-12T10:00:00Z,a@example.com\n"));
        Assert.Equal(HttpStatusCode.BadRequest, noHeader.StatusCode);
        var problem = await noHeader.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("it lacks phone, external_id, event_code, source, medium, campaign", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // A row without an identity or a time is that row's problem, answered by TouchBuilder's and the door's own codes.
        var rows = await (await server.PostAsync("/v1/imports/touches", Csv(Header + "2026-06-12T10:00:00Z,,,,,,,,\n,nobody@example.com,,,,,,,\n")))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["identities:no_identity", "occurred_at:missing_timestamp"], rows.GetProperty("rows").EnumerateArray()
            .Select(static r => $"{r.GetProperty("errors")[0].GetProperty("field").GetString()}:{r.GetProperty("errors")[0].GetProperty("code").GetString()}"));
    }
}
