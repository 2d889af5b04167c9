extern alias worker;

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ingest.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

using static Ingest.IntegrationTests.ReadSide;

namespace Ingest.IntegrationTests;

/// <summary>The collector and the worker together: HTTP doors → Kafka → worker → Postgres → read API.</summary>
public class PipelineHost : CollectorHost
{
    private WebApplicationFactory<worker::Program>? _worker;
    public RedisServer Redis { get; } = new();

    /// <summary>Deals in EUR convert to the report currency (USD) at 1.1 in the report fixtures; a report more than 20 % unattributed is directional.</summary>
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Reports:Rates:EUR"] = "1.1",
        ["Reports:Coverage:MaxUnattributedShare"] = "0.2",
    };

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Redis.InitializeAsync();
        var deadLetters = Kafka.CreateTopic("dlq", partitions: 1);
        var outcomeDeadLetters = Kafka.CreateTopic("outcomes-dlq", partitions: 1);
        _worker = new WebApplicationFactory<worker::Program>().WithWebHostBuilder(b =>
        {
            b.UseSettings(ServiceSettings.Worker(Kafka, Topic, deadLetters, Database, Redis));
            b.UseSetting("Kafka:OutcomeTopic", OutcomeTopic);
            b.UseSetting("Kafka:OutcomeDeadLetterTopic", outcomeDeadLetters);
        });
        _ = _worker.Services;
    }

    /// <summary>Waits (bounded) until <paramref name="countSql"/> counts <paramref name="expected"/> rows, the worker having stored them; asserts it did.</summary>
    public async Task WaitForCountAsync(string countSql, long expected)
    {
        long count = 0;
        for (var i = 0; i < 300 && count != expected; i++)
        {
            await Task.Delay(100);
            await using var connection = await Database.DataSource.OpenConnectionAsync();
            count = await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, countSql);
        }

        Assert.Equal(expected, count);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_worker is not null)
        {
            await _worker.DisposeAsync();
        }

        await Redis.DisposeAsync();
        await base.DisposeAsync();
    }
}

public sealed class PipelineTests(PipelineHost host) : IClassFixture<PipelineHost>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Touches_ThroughEveryStage_LeadKeepsEarliestFirstTouch_RetryStoredOnce_ReportsMatchHandCount()
    {
        using var writer = host.CreateClient(CollectorHost.WriteKey);
        using var reader = host.CreateClient(CollectorHost.ReadKey);
        string[] touches =
        [
            // Lead 1: a form after a ChatGPT visit (sent twice: a client retry), later a call, then a late-arriving earlier visit.
            """{"event_id":"p-1","kind":"form","email":"lin@example.com","occurred_at":"2026-11-03T10:00:00Z","page_url":"https://acme.com/pricing?utm_source=google&utm_medium=paid_search&utm_campaign=brand"}""",
            """{"event_id":"p-1","kind":"form","email":"lin@example.com","occurred_at":"2026-11-03T10:00:00Z","page_url":"https://acme.com/pricing?utm_source=google&utm_medium=paid_search&utm_campaign=brand"}""",
            """{"event_id":"p-2","kind":"call","email":"lin@example.com","phone":"+14155550111","occurred_at":"2026-11-15T10:00:00Z"}""",
            """{"event_id":"p-3","kind":"form","email":"lin@example.com","occurred_at":"2026-11-01T09:00:00Z","page_url":"https://acme.com/","referrer":"https://chatgpt.com/"}""",
            // Lead 2: paid search with an aliased medium (a violation).
            """{"event_id":"p-4","kind":"form","email":"ken@example.com","occurred_at":"2026-11-05T10:00:00Z","page_url":"https://acme.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand"}""",
            // Lead 3: direct, then a newsletter click with a mixed-case source (a violation).
            """{"event_id":"p-5","kind":"form","anonymous_id":"anon-p","occurred_at":"2026-11-07T10:00:00Z","page_url":"https://acme.com/"}""",
            """{"event_id":"p-6","kind":"form","anonymous_id":"anon-p","occurred_at":"2026-11-08T10:00:00Z","page_url":"https://acme.com/?utm_source=Newsletter&utm_medium=email&utm_campaign=nov"}""",
        ];
        foreach (var touch in touches)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await writer.PostAsync("/v1/touches", Json(touch))).StatusCode);
        }

        JsonElement lead = default;
        for (var i = 0; i < 150; i++)
        {
            var response = await reader.GetAsync("/v1/leads?email=LIN@example.com");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                lead = await response.Content.ReadFromJsonAsync<JsonElement>();
                if (lead.GetProperty("touch_count").GetInt32() == 3)
                {
                    break;
                }
            }

            await Task.Delay(100);
        }

        Assert.Equal(3, lead.GetProperty("touch_count").GetInt32());
        Assert.Equal("p-3", lead.GetProperty("first_touch").GetProperty("event_id").GetString());
        Assert.Equal("ai_search", lead.GetProperty("first_touch").GetProperty("channel").GetString());
        Assert.Equal("p-2", lead.GetProperty("latest_touch").GetProperty("event_id").GetString());
        Assert.Equal(["p-3", "p-1", "p-2"], lead.GetProperty("touches").EnumerateArray().Select(t => t.GetProperty("event_id").GetString()));
        Assert.Contains(lead.GetProperty("identities").EnumerateArray(), i => i.GetProperty("value").GetString() == "+14155550111");

        var byId = await reader.GetFromJsonAsync<JsonElement>($"/v1/leads/{lead.GetProperty("lead_id").GetString()}");
        Assert.Equal(3, byId.GetProperty("touch_count").GetInt32());

        // Wait for the other two leads, then check the reports against the hand count above.
        for (var i = 0; i < 150 && (await reader.GetAsync("/v1/leads?anonymous_id=anon-p")).StatusCode != HttpStatusCode.OK; i++)
        {
            await Task.Delay(100);
        }

        await WaitForTouchCount(reader, "anonymous_id=anon-p", 2);
        await WaitForTouchCount(reader, "email=ken@example.com", 1);
        const string period = "from=2026-10-01T00:00:00Z&to=2026-12-01T00:00:00Z";
        var first = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/channels?{period}&touch=first");
        Assert.Equal(3, first.GetProperty("leads").GetInt64());
        Assert.Equal(Counts(("ai_search", 1), ("direct", 1), ("paid_search", 1)), Counts(first));
        Assert.Equal(0.3333, first.GetProperty("unattributed_share").GetDouble(), 4);
        Assert.Equal(0.3333, first.GetProperty("violation_rate").GetDouble(), 4);

        var latest = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/channels?{period}&touch=latest");
        Assert.Equal(Counts(("email", 1), ("offline", 1), ("paid_search", 1)), Counts(latest));
        Assert.Equal(0, latest.GetProperty("unattributed_share").GetDouble());

        var ga4 = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/channels?{period}&touch=first&taxonomy=ga4");
        Assert.Equal(Counts(("Direct", 1), ("Paid Search", 1), ("Referral", 1)), Counts(ga4));
    }

    [Fact]
    public async Task LeadTimeline_PagedByLimitAndCursor_OldestFirst_FirstAndLatestOnEveryPage()
    {
        using var writer = host.CreateClient(CollectorHost.WriteKey);
        using var reader = host.CreateClient(CollectorHost.ReadKey);
        // Sent newest first: the timeline orders by occurred_at, not by arrival. t-3 and t-4 share a time (event id breaks the tie).
        (string Id, string At)[] touches = [("t-5", "2026-11-05"), ("t-4", "2026-11-03"), ("t-3", "2026-11-03"), ("t-2", "2026-11-02"), ("t-1", "2026-11-01")];
        foreach (var (id, at) in touches)
        {
            var body = $$"""{"event_id":"page-{{id}}","kind":"form","email":"pages@example.com","occurred_at":"{{at}}T10:00:00Z"}""";
            Assert.Equal(HttpStatusCode.Accepted, (await writer.PostAsync("/v1/touches", Json(body))).StatusCode);
        }

        await WaitForTouchCount(reader, "email=pages@example.com", 5);
        var seen = new List<string>();
        string? cursor = null;
        int[] expectedSizes = [2, 2, 1];
        foreach (var size in expectedSizes)
        {
            var page = await reader.GetFromJsonAsync<JsonElement>("/v1/leads?email=pages@example.com&limit=2" + (cursor is null ? "" : "&cursor=" + cursor));
            var ids = page.GetProperty("touches").EnumerateArray().Select(t => t.GetProperty("event_id").GetString()!).ToList();
            Assert.Equal(size, ids.Count);
            seen.AddRange(ids);
            Assert.Equal("page-t-1", page.GetProperty("first_touch").GetProperty("event_id").GetString());
            Assert.Equal("page-t-5", page.GetProperty("latest_touch").GetProperty("event_id").GetString());
            Assert.Equal(5, page.GetProperty("touch_count").GetInt32());
            cursor = page.TryGetProperty("next_cursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }

        Assert.Null(cursor);
        Assert.Equal(["page-t-1", "page-t-2", "page-t-3", "page-t-4", "page-t-5"], seen);

        var whole = await reader.GetFromJsonAsync<JsonElement>("/v1/leads?email=pages@example.com");
        Assert.Equal(5, whole.GetProperty("touches").GetArrayLength());

        foreach (var (query, field) in new[] { ("limit=0", "limit"), ("limit=1001", "limit"), ("cursor=not-a-cursor", "cursor"), ("cursor=MTIzOg", "cursor") })
        {
            var bad = await reader.GetAsync("/v1/leads?email=pages@example.com&" + query);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
            Assert.Equal(field, (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }
    }

    [Fact]
    public async Task Visits_MakeAVisitorNotALead_UntilAForm_WhichBecomesTheLeadCreationTouch_ReportsCountLeadsOnly()
    {
        using var writer = host.CreateClient(CollectorHost.WriteKey);
        using var reader = host.CreateClient(CollectorHost.ReadKey);
        string[] touches =
        [
            // A visitor: one paid-social visit, never converts.
            """{"event_id":"vis-1","kind":"visit","anonymous_id":"anon-v1","occurred_at":"2025-03-02T10:00:00Z","page_url":"https://acme.com/?utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm"}""",
            // A lead: a paid-search visit, a direct visit, then a form from a newsletter link.
            """{"event_id":"vis-2","kind":"visit","anonymous_id":"anon-v2","occurred_at":"2025-03-03T10:00:00Z","page_url":"https://acme.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand&gclid=Cj0KEQ"}""",
            """{"event_id":"vis-3","kind":"visit","anonymous_id":"anon-v2","occurred_at":"2025-03-03T10:07:00Z","page_url":"https://acme.com/pricing"}""",
            """{"event_id":"vis-4","kind":"form","anonymous_id":"anon-v2","email":"nia@example.com","occurred_at":"2025-03-04T10:00:00Z","page_url":"https://acme.com/contact?utm_source=newsletter&utm_medium=email&utm_campaign=mar"}""",
        ];
        foreach (var touch in touches)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await writer.PostAsync("/v1/touches", Json(touch))).StatusCode);
        }

        await WaitForTouchCount(reader, "anonymous_id=anon-v1", 1);
        await WaitForTouchCount(reader, "email=nia@example.com", 3);

        var visitor = await reader.GetFromJsonAsync<JsonElement>("/v1/leads?anonymous_id=anon-v1");
        Assert.Equal("vis-1", visitor.GetProperty("first_touch").GetProperty("event_id").GetString());
        Assert.False(visitor.TryGetProperty("lead_created_touch", out _));
        Assert.False(visitor.TryGetProperty("lead_created_at", out _));

        var lead = await reader.GetFromJsonAsync<JsonElement>("/v1/leads?email=nia@example.com");
        Assert.Equal("vis-2", lead.GetProperty("first_touch").GetProperty("event_id").GetString());
        Assert.Equal("paid_search", lead.GetProperty("first_touch").GetProperty("channel").GetString());
        Assert.Equal("vis-4", lead.GetProperty("lead_created_touch").GetProperty("event_id").GetString());
        Assert.Equal("form", lead.GetProperty("lead_created_touch").GetProperty("kind").GetString());
        Assert.Equal(new DateTimeOffset(2025, 3, 4, 10, 0, 0, TimeSpan.Zero), lead.GetProperty("lead_created_at").GetDateTimeOffset());
        Assert.Equal(["vis-2", "vis-3", "vis-4"], lead.GetProperty("touches").EnumerateArray().Select(t => t.GetProperty("event_id").GetString()));
        Assert.Equal(["visit", "visit", "form"], lead.GetProperty("touches").EnumerateArray().Select(t => t.GetProperty("kind").GetString()));

        // The visitor's paid-social visit is in the period but is not a lead.
        const string period = "from=2025-03-01T00:00:00Z&to=2025-04-01T00:00:00Z";
        var first = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/channels?{period}&touch=first");
        Assert.Equal(1, first.GetProperty("leads").GetInt64());
        Assert.Equal(Counts(("paid_search", 1)), Counts(first));
        var created = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/channels?{period}&touch=lead_created");
        Assert.Equal("lead_created", created.GetProperty("touch").GetString());
        Assert.Equal(Counts(("email", 1)), Counts(created));
        var bad = await reader.GetAsync($"/v1/reports/channels?{period}&touch=visit");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("touch", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    [Fact]
    public async Task Attribution_LeadExplainedTouchByTouch_AndTheReportSumsEveryModelToTheConversions()
    {
        using var writer = host.CreateClient(CollectorHost.WriteKey);
        using var reader = host.CreateClient(CollectorHost.ReadKey);
        string[] touches =
        [
            // Lead A: an old visit (outside the 90-day lookback), paid search, direct, then the form that creates the lead; a call after it.
            """{"event_id":"at-0","kind":"visit","anonymous_id":"anon-at","occurred_at":"2025-01-01T10:00:00Z","page_url":"https://acme.com/?utm_source=bing&utm_medium=cpc"}""",
            """{"event_id":"at-1","kind":"visit","anonymous_id":"anon-at","occurred_at":"2025-05-01T10:00:00Z","page_url":"https://acme.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand"}""",
            """{"event_id":"at-2","kind":"visit","anonymous_id":"anon-at","occurred_at":"2025-05-06T10:00:00Z","page_url":"https://acme.com/pricing"}""",
            """{"event_id":"at-3","kind":"form","anonymous_id":"anon-at","email":"at@example.com","occurred_at":"2025-05-11T10:00:00Z","page_url":"https://acme.com/contact?utm_source=newsletter&utm_medium=email&utm_campaign=may"}""",
            """{"event_id":"at-4","kind":"call","email":"at@example.com","occurred_at":"2025-05-20T10:00:00Z"}""",
            // Lead B: one paid-social form. A visitor in the same month is no conversion.
            """{"event_id":"bt-1","kind":"form","email":"bt@example.com","occurred_at":"2025-05-15T10:00:00Z","page_url":"https://acme.com/?utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm"}""",
            """{"event_id":"vt-1","kind":"visit","anonymous_id":"anon-vt","occurred_at":"2025-05-16T10:00:00Z","page_url":"https://acme.com/?utm_source=google&utm_medium=cpc"}""",
            // Lead C (July): a paid-search visit and the email form that creates the lead at the same instant, sent in the
            // opposite order of their event ids: the tie goes by event id, so the form comes first.
            """{"event_id":"ct-b","kind":"visit","anonymous_id":"anon-ct","occurred_at":"2025-07-01T10:00:00Z","page_url":"https://acme.com/?utm_source=google&utm_medium=cpc"}""",
            """{"event_id":"ct-a","kind":"form","anonymous_id":"anon-ct","email":"ct@example.com","occurred_at":"2025-07-01T10:00:00Z","page_url":"https://acme.com/contact?utm_source=newsletter&utm_medium=email"}""",
        ];
        foreach (var touch in touches)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await writer.PostAsync("/v1/touches", Json(touch))).StatusCode);
        }

        await WaitForTouchCount(reader, "email=at@example.com", 5);
        await WaitForTouchCount(reader, "email=bt@example.com", 1);
        await WaitForTouchCount(reader, "anonymous_id=anon-vt", 1);
        await WaitForTouchCount(reader, "email=ct@example.com", 2);
        var leadId = (await reader.GetFromJsonAsync<JsonElement>("/v1/leads?email=at@example.com")).GetProperty("lead_id").GetString();

        var explained = await reader.GetFromJsonAsync<JsonElement>($"/v1/leads/{leadId}/attribution");
        Assert.Equal(new DateTimeOffset(2025, 5, 11, 10, 0, 0, TimeSpan.Zero), explained.GetProperty("converted_at").GetDateTimeOffset());
        var eligible = explained.GetProperty("touches").EnumerateArray().ToList();
        Assert.Equal(["at-1", "at-2", "at-3"], eligible.Select(t => t.GetProperty("event_id").GetString()));
        Assert.Equal(["first"], eligible[0].GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(["lead_creation", "last"], eligible[2].GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal([("at-0", "outside_lookback"), ("at-4", "after_conversion")],
            explained.GetProperty("left_out").EnumerateArray().Select(t => (t.GetProperty("event_id").GetString(), t.GetProperty("reason").GetString())));
        // By hand: U 40/20/40; W and full path give the missing milestones' share to first and lead creation (45/10/45);
        // time decay 2^(-10/7), 2^(-5/7), 1 over their sum 1.981006.
        double[][] expected =
        [
            // first, last, last_non_direct, linear, time_decay, u_shaped, w_shaped, full_path
            [1, 0, 0, 1 / 3.0, 0.187530318, 0.4, 0.45, 0.45],
            [0, 0, 0, 1 / 3.0, 0.307675500, 0.2, 0.10, 0.10],
            [0, 1, 1, 1 / 3.0, 0.504794182, 0.4, 0.45, 0.45],
        ];
        string[] models = ["first", "last", "last_non_direct", "linear", "time_decay", "u_shaped", "w_shaped", "full_path"];
        for (var t = 0; t < 3; t++)
        {
            for (var m = 0; m < models.Length; m++)
            {
                Assert.Equal(expected[t][m], eligible[t].GetProperty("weights").GetProperty(models[m]).GetDouble(), 6);
            }
        }

        var visitsLeftOut = await reader.GetFromJsonAsync<JsonElement>($"/v1/leads/{leadId}/attribution?exclude_kinds=visit&models=linear,first");
        var only = Assert.Single(visitsLeftOut.GetProperty("touches").EnumerateArray());
        Assert.Equal(1, only.GetProperty("weights").GetProperty("linear").GetDouble());
        Assert.Equal(2, only.GetProperty("weights").EnumerateObject().Count());

        const string period = "from=2025-05-01T00:00:00Z&to=2025-06-01T00:00:00Z";
        var report = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/attribution?{period}");
        Assert.Equal(2, report.GetProperty("conversions").GetInt64());
        Assert.Equal((2.0, "b2b"), (report.GetProperty("total").GetDouble(), report.GetProperty("taxonomy").GetString()));
        // No stage outcomes in this fixture: no lead reached sql.
        var atSql = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/attribution?{period}&conversion=sql");
        Assert.Equal((0L, 0.0), (atSql.GetProperty("conversions").GetInt64(), atSql.GetProperty("total").GetDouble()));
        string Credits(string model) => CreditsOf(report, model);
        Assert.Equal("paid_search=1,paid_social=1", Credits("first"));
        Assert.Equal("email=1,paid_social=1", Credits("last"));
        Assert.Equal("direct=0.3333,email=0.3333,paid_search=0.3333,paid_social=1", Credits("linear"));
        Assert.Equal("direct=0.2,email=0.4,paid_search=0.4,paid_social=1", Credits("u_shaped"));
        Assert.Equal("direct=0.1,email=0.45,paid_search=0.45,paid_social=1", Credits("w_shaped"));
        foreach (var model in models)
        {
            Assert.Equal(2, report.GetProperty("models").GetProperty(model).EnumerateArray().Sum(g => g.GetProperty("credit").GetDouble()), 6);
        }

        // Without visits, lead A's only eligible touch is its email form.
        var withoutVisits = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/attribution?{period}&exclude_kinds=visit&models=first,linear,u_shaped");
        foreach (var model in new[] { "first", "linear", "u_shaped" })
        {
            Assert.Equal("email=1,paid_social=1", CreditsOf(withoutVisits, model));
        }

        // Lead C's tie: the form (ct-a) is first and the lead creation, the visit (ct-b) last; U-shaped gives the visit
        // after the lead creation nothing, full path gives it the rest's 10 %.
        var july = await reader.GetFromJsonAsync<JsonElement>("/v1/reports/attribution?from=2025-07-01T00:00:00Z&to=2025-08-01T00:00:00Z&models=first,last,u_shaped,full_path");
        string JulyCredits(string model) => CreditsOf(july, model);
        Assert.Equal("email=1", JulyCredits("first"));
        Assert.Equal("paid_search=1", JulyCredits("last"));
        Assert.Equal("email=1", JulyCredits("u_shaped"));
        Assert.Equal("email=0.9,paid_search=0.1", JulyCredits("full_path"));
        var leadC = (await reader.GetFromJsonAsync<JsonElement>("/v1/leads?email=ct@example.com")).GetProperty("lead_id").GetString();
        var explainedC = await reader.GetFromJsonAsync<JsonElement>($"/v1/leads/{leadC}/attribution?models=first");
        Assert.Equal(["ct-a", "ct-b"], explainedC.GetProperty("touches").EnumerateArray().Select(t => t.GetProperty("event_id").GetString()));

        var bySource = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/attribution?{period}&group_by=source&models=first");
        Assert.Equal(["google", "linkedin"], bySource.GetProperty("models").GetProperty("first").EnumerateArray().Select(g => g.GetProperty("group").GetString()).Order(StringComparer.Ordinal));

        foreach (var (query, field) in new[]
        {
            ("models=last_click", "models"), ("conversion=closed", "conversion"), ("lookback_days=0", "lookback_days"), ("exclude_kinds=pageview", "exclude_kinds"),
            ("group_by=owner", "group_by"), ("value=profit", "value"), ("taxonomy=ua", "taxonomy"), ("currency=usd1", "currency"),
        })
        {
            var bad = await reader.GetAsync($"/v1/reports/attribution?{period}&{query}");
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal(field, (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }

        var visitorId = (await reader.GetFromJsonAsync<JsonElement>("/v1/leads?anonymous_id=anon-vt")).GetProperty("lead_id").GetString();
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync($"/v1/leads/{visitorId}/attribution")).StatusCode);
        using var writeKeyClient = host.CreateClient(CollectorHost.WriteKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await writeKeyClient.GetAsync($"/v1/reports/attribution?{period}")).StatusCode);
    }

    /// <summary>A report's credits under <paramref name="model"/> as "group=credit" pairs (4 decimals), in group order.</summary>
    private static string CreditsOf(JsonElement report, string model) => string.Join(",", report.GetProperty("models").GetProperty(model).EnumerateArray()
        .Select(g => $"{g.GetProperty("group").GetString()}={g.GetProperty("credit").GetDouble():0.####}").Order(StringComparer.Ordinal));
}
