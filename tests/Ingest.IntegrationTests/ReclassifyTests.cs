using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ingest.Core.Governance;
using Ingest.IntegrationTests.Operability;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Ingest.IntegrationTests;

/// <summary>The pipeline with its governance rules in a file the test rewrites: rules A do not know ChatGPT as an AI assistant, rules B (the shipped ones) do.</summary>
public sealed class ReclassifyHost : PipelineHost
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-reclassify-").FullName;

    public string RulesPath => Path.Combine(_dir, "rules.yaml");

    /// <summary>The shipped rules (same <c>version</c> label: only the digest tells the two apart).</summary>
    public static string RulesB => RulesFileHost.ShippedRules();

    /// <summary>The shipped rules without chatgpt.com, chat.openai.com and the chatgpt source among AI assistants.</summary>
    public static string RulesA => RulesB.Replace("ai_assistant: [chatgpt.com, chat.openai.com, ", "ai_assistant: [", StringComparison.Ordinal)
        .Replace("ai_sources: [chatgpt, ", "ai_sources: [", StringComparison.Ordinal);

    protected override IReadOnlyDictionary<string, string> Settings =>
        new Dictionary<string, string>(base.Settings) { ["Governance:RulesPath"] = RulesPath };

    public override async Task InitializeAsync()
    {
        Assert.NotEqual(RulesB, RulesA);
        await File.WriteAllTextAsync(RulesPath, RulesA);
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}

[Collection(ProcessWideMetricsCollection.Name)]
public sealed class ReclassifyTests(ReclassifyHost host) : IClassFixture<ReclassifyHost>
{
    internal static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    // Four people, six touches. Under rules A, ChatGPT is an ordinary referrer; under rules B it is an AI assistant.
    //   r-1 L1 form  11-01  referrer chatgpt.com                      A referral → B ai_search   L1's first and lead-creation touch
    //   r-2 L1 form  11-05  google / cpc                              paid_search (both)          L1's latest
    //   r-3 L2 form  11-02  google / cpc                              paid_search (both)          L2's first and lead-creation touch
    //   r-4 L2 form  11-06  utm_source=chatgpt.com, medium referral   A referral → B ai_search   L2's latest
    //   r-5 V3 visit 11-03  referrer chat.openai.com                  A referral → B ai_search   V3's first and latest (a visitor: no lead-creation touch)
    //   r-6 L4 form  11-04  no referrer                               direct (both)               L4's only touch
    // Hand count under B: 6 scanned, 3 changed (r-1, r-4, r-5), 3 only stamped (r-2, r-3, r-6); first changes for L1 and V3,
    // latest for L2 and V3, lead creation for L1; referral 3 → 0, ai_search 0 → 3, paid_search 2 → 2, direct 1 → 1.
    private static readonly string[] Touches =
    [
        """{"event_id":"r-1","kind":"form","email":"l1@example.com","occurred_at":"2026-11-01T09:00:00Z","page_url":"https://acme.com/","referrer":"https://chatgpt.com/"}""",
        """{"event_id":"r-2","kind":"form","email":"l1@example.com","occurred_at":"2026-11-05T09:00:00Z","page_url":"https://acme.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand"}""",
        """{"event_id":"r-3","kind":"form","email":"l2@example.com","occurred_at":"2026-11-02T09:00:00Z","page_url":"https://acme.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand"}""",
        """{"event_id":"r-4","kind":"form","email":"l2@example.com","occurred_at":"2026-11-06T09:00:00Z","page_url":"https://acme.com/?utm_source=chatgpt.com&utm_medium=referral"}""",
        """{"event_id":"r-5","kind":"visit","anonymous_id":"v3","occurred_at":"2026-11-03T09:00:00Z","page_url":"https://acme.com/","referrer":"https://chat.openai.com/c/1"}""",
        """{"event_id":"r-6","kind":"form","email":"l4@example.com","occurred_at":"2026-11-04T09:00:00Z","page_url":"https://acme.com/"}""",
    ];

    [Fact]
    public async Task Reclassify_RulesChange_DryRunAnswersTheHandCountedDiffAndWritesNothing_ApplyRewritesTouchesAndLeads_SecondApplyChangesNothing()
    {
        using var writer = host.CreateClient(CollectorHost.WriteKey);
        using var reader = host.CreateClient(CollectorHost.ReadKey);
        using var server = host.CreateClient(CollectorHost.ServerKey);
        var provider = host.Services.GetRequiredService<GovernanceRulesProvider>();
        var versionA = provider.Current.VersionStamp;
        foreach (var touch in Touches)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await writer.PostAsync("/v1/touches", Json(touch))).StatusCode);
        }

        await WaitForLeadCopiesAsync(4);
        var stored = await TouchRowsAsync();
        Assert.Equal(["referral", "paid_search", "paid_search", "referral", "referral", "direct"], stored.Values.Select(static t => t.Channel));
        Assert.All(stored.Values, t => Assert.Equal(versionA, t.RulesVersion));
        Assert.Equal(("referral", "paid_search", "referral"), await LeadCopiesAsync("l1@example.com"));

        // Rules B: the file changes and the provider reloads it (as its watcher does).
        await File.WriteAllTextAsync(host.RulesPath, ReclassifyHost.RulesB);
        provider.Reload();
        Assert.Null(provider.LastReloadError);
        var versionB = provider.Current.VersionStamp;
        Assert.NotEqual(versionA, versionB);
        Assert.Equal(provider.Current.Version + "+" + provider.Current.Digest, versionB);

        var leadsBefore = await LeadRowVersionsAsync();
        var dryRun = await ReclassifyAsync(reader, "dry_run=true");
        AssertHandCount(dryRun, versionB, dryRun: true);
        Assert.False(dryRun.TryGetProperty("batches", out _));
        Assert.False(dryRun.TryGetProperty("next", out _));
        Assert.Equal(stored, await TouchRowsAsync());
        Assert.Equal(leadsBefore, await LeadRowVersionsAsync());

        // Pages: four touches, then the rest from next; bounded by occurred_at.
        var page1 = await ReclassifyAsync(reader, "limit=4");
        Assert.Equal((4, 2), (page1.GetProperty("touches_scanned").GetInt32(), page1.GetProperty("touches_changed").GetInt32()));
        Assert.Equal("r-4", page1.GetProperty("next").GetString());
        var page2 = await ReclassifyAsync(reader, "limit=4&after=r-4");
        Assert.Equal((2, 1), (page2.GetProperty("touches_scanned").GetInt32(), page2.GetProperty("touches_changed").GetInt32()));
        Assert.False(page2.TryGetProperty("next", out _));
        var window = await ReclassifyAsync(reader, "from=2026-11-03T00:00:00Z&to=2026-11-05T00:00:00Z");
        Assert.Equal((2, 1), (window.GetProperty("touches_scanned").GetInt32(), window.GetProperty("touches_changed").GetInt32()));

        var applied = await ReclassifyAsync(server, "dry_run=false");
        AssertHandCount(applied, versionB, dryRun: false);
        Assert.Equal(1, applied.GetProperty("batches").GetInt32());
        Assert.Equal(Figures(dryRun), Figures(applied));

        var after = await TouchRowsAsync();
        Assert.Equal(["ai_search", "paid_search", "paid_search", "ai_search", "ai_search", "direct"], after.Values.Select(static t => t.Channel));
        Assert.All(after.Values, t => Assert.Equal(versionB, t.RulesVersion));
        Assert.All(after.Values, t => Assert.Equal(t.Channel, t.RecordChannel));
        Assert.Equal("chatgpt", after["r-4"].Source);
        Assert.Equal(("ai_search", "paid_search", "ai_search"), await LeadCopiesAsync("l1@example.com"));
        Assert.Equal(("paid_search", "ai_search", "paid_search"), await LeadCopiesAsync("l2@example.com"));
        Assert.Equal(("direct", "direct", "direct"), await LeadCopiesAsync("l4@example.com"));
        var lead = await reader.GetFromJsonAsync<JsonElement>("/v1/leads?email=l1@example.com");
        Assert.Equal("ai_search", lead.GetProperty("first_touch").GetProperty("channel").GetString());
        var report = await reader.GetFromJsonAsync<JsonElement>("/v1/reports/channels?from=2026-10-01T00:00:00Z&to=2026-12-01T00:00:00Z&touch=first");
        Assert.Contains(report.GetProperty("channels").EnumerateArray(), c => c.GetProperty("channel").GetString() == "ai_search" && c.GetProperty("leads").GetInt32() == 1);

        // Idempotent: the second apply finds nothing to change and writes no row.
        var leadsApplied = await LeadRowVersionsAsync();
        var touchesApplied = await TouchRowVersionsAsync();
        var again = await ReclassifyAsync(server, "dry_run=false");
        Assert.Equal(6, again.GetProperty("touches_scanned").GetInt32());
        foreach (var figure in new[] { "touches_changed", "touches_stamped", "leads_first_changed", "leads_latest_changed", "leads_created_changed" })
        {
            Assert.Equal(0, again.GetProperty(figure).GetInt32());
        }

        Assert.Equal([("ai_search", 3, 3), ("direct", 1, 1), ("paid_search", 2, 2)], Channels(again));
        Assert.Equal(touchesApplied, await TouchRowVersionsAsync());
        Assert.Equal(leadsApplied, await LeadRowVersionsAsync());
    }

    [Fact]
    public async Task Reclassify_Keys_ReadKeyOnlyDryRuns_WriteKeyAndNoKeyRefused_BadQueryIs400()
    {
        using var reader = host.CreateClient(CollectorHost.ReadKey);
        using var writer = host.CreateClient(CollectorHost.WriteKey);
        using var server = host.CreateClient(CollectorHost.ServerKey);
        using var anonymous = host.CreateClient(key: null);

        var refused = await reader.PostAsync("/v1/governance/reclassify?dry_run=false", null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("https://ingest.dev/problems/forbidden", problem.GetProperty("type").GetString());
        Assert.Equal("Authorization", problem.GetProperty("field").GetString());

        Assert.Equal(HttpStatusCode.Forbidden, (await writer.PostAsync("/v1/governance/reclassify?dry_run=true", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await writer.PostAsync("/v1/governance/reclassify?dry_run=false", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/v1/governance/reclassify", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.PostAsync("/v1/governance/reclassify", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync("/v1/governance/reclassify?dry_run=true", null)).StatusCode);

        foreach (var (query, field) in new[]
                 {
                     ("dry_run=maybe", "dry_run"), ("limit=0", "limit"), ("limit=50001", "limit"), ("from=yesterday", "from"),
                     ("from=2026-11-05T00:00:00Z&to=2026-11-01T00:00:00Z", "to"), ("after=a%00b", "after"),
                 })
        {
            var bad = await reader.PostAsync($"/v1/governance/reclassify?{query}", null);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal(field, (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }
    }

    private static void AssertHandCount(JsonElement answer, string version, bool dryRun)
    {
        Assert.Equal(version, answer.GetProperty("rules_version").GetString());
        Assert.Equal(dryRun, answer.GetProperty("dry_run").GetBoolean());
        Assert.Equal(6, answer.GetProperty("touches_scanned").GetInt32());
        Assert.Equal(3, answer.GetProperty("touches_changed").GetInt32());
        Assert.Equal(3, answer.GetProperty("touches_stamped").GetInt32());
        Assert.Equal(0, answer.GetProperty("touches_skipped").GetInt32());
        Assert.Equal(0, answer.GetProperty("leads_skipped").GetInt32());
        Assert.Equal(2, answer.GetProperty("leads_first_changed").GetInt32());
        Assert.Equal(2, answer.GetProperty("leads_latest_changed").GetInt32());
        Assert.Equal(1, answer.GetProperty("leads_created_changed").GetInt32());
        Assert.Equal([("ai_search", 0, 3), ("direct", 1, 1), ("paid_search", 2, 2), ("referral", 3, 0)], Channels(answer));
    }

    internal static List<(string, int, int)> Channels(JsonElement answer) =>
        [.. answer.GetProperty("channels").EnumerateArray().Select(static c => (c.GetProperty("channel").GetString()!, c.GetProperty("before").GetInt32(), c.GetProperty("after").GetInt32()))];

    // Everything but what tells a dry run from an apply.
    private static string Figures(JsonElement answer) =>
        JsonSerializer.Serialize(answer.EnumerateObject().Where(static p => p.Name is not ("dry_run" or "batches")).ToDictionary(static p => p.Name, static p => p.Value));

    internal static async Task<JsonElement> ReclassifyAsync(HttpClient client, string query)
    {
        var response = await client.PostAsync($"/v1/governance/reclassify?{query}", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private sealed record TouchRow(string Channel, string Ga4Channel, string? Source, string? RulesVersion, string? RecordChannel);

    private async Task<SortedDictionary<string, TouchRow>> TouchRowsAsync()
    {
        var rows = new SortedDictionary<string, TouchRow>(StringComparer.Ordinal);
        await using var command = host.Database.DataSource.CreateCommand(
            "select event_id, channel, ga4_channel, source, rules_version, record->'attribution'->>'channel' from touches");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows[reader.GetString(0)] = new TouchRow(reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5));
        }

        return rows;
    }

    // xmin changes whenever a row is written, even with the same values.
    private Task<List<string>> TouchRowVersionsAsync() => StringsAsync("select event_id || ':' || xmin::text from touches order by event_id");

    private Task<List<string>> LeadRowVersionsAsync() => StringsAsync("select lead_id::text || ':' || xmin::text from leads order by lead_id");

    private async Task<List<string>> StringsAsync(string sql)
    {
        var values = new List<string>();
        await using var command = host.Database.DataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    private async Task<(string?, string?, string?)> LeadCopiesAsync(string email)
    {
        await using var command = host.Database.DataSource.CreateCommand("""
            select l.first_channel, l.latest_channel, l.created_channel from leads l
            join lead_identities i on i.lead_id = l.lead_id where i.kind = 'email' and i.value = $1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = email });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));
    }

    private async Task WaitForLeadCopiesAsync(int leads)
    {
        for (var i = 0; i < 200; i++)
        {
            await using var command = host.Database.DataSource.CreateCommand("select (select count(*) from touches), (select count(*) from leads where first_event_id is not null)");
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            if (reader.GetInt64(0) == Touches.Length && reader.GetInt64(1) == leads)
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail("the worker did not store the fixture's touches in time");
    }
}

/// <summary>Apply never waits for rows others hold: it skips them, says so, and a later call finishes the job.</summary>
[Collection(ProcessWideMetricsCollection.Name)]
public sealed class ReclassifyLockTests(ReclassifyHost host) : IClassFixture<ReclassifyHost>
{
    [Fact]
    public async Task Reclassify_RowsHeldByOtherTransactions_AreSkippedWithoutWaiting_AndALaterCallFinishes()
    {
        using var writer = host.CreateClient(CollectorHost.WriteKey);
        using var server = host.CreateClient(CollectorHost.ServerKey);
        foreach (var touch in new[]
                 {
                     """{"event_id":"k-1","kind":"form","email":"k1@example.com","occurred_at":"2026-11-01T09:00:00Z","page_url":"https://acme.com/","referrer":"https://chatgpt.com/"}""",
                     """{"event_id":"k-2","kind":"form","email":"k1@example.com","occurred_at":"2026-11-02T09:00:00Z","page_url":"https://acme.com/?utm_source=google&utm_medium=cpc"}""",
                 })
        {
            Assert.Equal(HttpStatusCode.Accepted, (await writer.PostAsync("/v1/touches", ReclassifyTests.Json(touch))).StatusCode);
        }

        for (var i = 0; i < 200 && await ScalarAsync("select count(*)::text from leads where latest_event_id = 'k-2'") != "1"; i++)
        {
            await Task.Delay(100);
        }

        var provider = host.Services.GetRequiredService<GovernanceRulesProvider>();
        var versionA = provider.Current.VersionStamp;
        await File.WriteAllTextAsync(host.RulesPath, ReclassifyHost.RulesB);
        provider.Reload();

        // A merge (here: a plain transaction) holds k-1: apply writes k-2's stamp, leaves k-1 and answers at once.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using (var holder = await HoldAsync("select 1 from touches where event_id = 'k-1' for update"))
        {
            var first = await ReclassifyTests.ReclassifyAsync(server, "dry_run=false");
            Assert.Equal([2, 1, 1, 1], Counts(first, "touches_scanned", "touches_changed", "touches_stamped", "touches_skipped"));
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"apply waited {clock.Elapsed} for a locked row");
        Assert.Equal("referral|" + versionA, await ScalarAsync("select channel || '|' || rules_version from touches where event_id = 'k-1'"));

        // The worker (here: a plain transaction) holds the lead: k-1 is rewritten, the lead's copies wait for the next call.
        await using (var holder = await HoldAsync("select 1 from leads where first_event_id = 'k-1' for update"))
        {
            var second = await ReclassifyTests.ReclassifyAsync(server, "dry_run=false");
            Assert.Equal([1, 0, 1, 1], Counts(second, "touches_changed", "touches_skipped", "leads_first_changed", "leads_skipped"));
        }

        Assert.Equal("ai_search", await ScalarAsync("select channel from touches where event_id = 'k-1'"));
        Assert.Equal("referral|referral", await ScalarAsync("select first_channel || '|' || created_channel from leads where first_event_id = 'k-1'"));

        var third = await ReclassifyTests.ReclassifyAsync(server, "dry_run=false");
        Assert.Equal([0, 0, 1, 1, 0], Counts(third, "touches_changed", "touches_stamped", "leads_first_changed", "leads_created_changed", "leads_skipped"));
        Assert.Equal("ai_search|ai_search", await ScalarAsync("select first_channel || '|' || created_channel from leads where first_event_id = 'k-1'"));

        var fourth = await ReclassifyTests.ReclassifyAsync(server, "dry_run=false");
        Assert.Equal([0, 0, 0, 0, 0], Counts(fourth, "touches_changed", "touches_stamped", "touches_skipped", "leads_first_changed", "leads_skipped"));
    }

    private static int[] Counts(JsonElement answer, params string[] names) => [.. names.Select(n => answer.GetProperty(n).GetInt32())];

    private async Task<string?> ScalarAsync(string sql)
    {
        await using var command = host.Database.DataSource.CreateCommand(sql);
        return (string?)await command.ExecuteScalarAsync();
    }

    /// <summary>A transaction holding the rows <paramref name="lockSql"/> locks until disposed (rolled back).</summary>
    private async Task<IAsyncDisposable> HoldAsync(string lockSql)
    {
        var connection = await host.Database.DataSource.OpenConnectionAsync();
        var tx = await connection.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand(lockSql, connection, tx))
        {
            Assert.NotNull(await command.ExecuteScalarAsync());
        }

        return new Held(connection, tx);
    }

    private sealed class Held(NpgsqlConnection connection, NpgsqlTransaction tx) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await tx.RollbackAsync();
            await tx.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
