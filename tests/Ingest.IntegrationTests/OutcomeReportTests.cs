using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;

namespace Ingest.IntegrationTests;

/// <summary>
/// Touches and outcomes through both doors, the worker and Postgres, then the funnel and speed-to-lead reports, checked
/// against numbers worked out by hand from the fixture below (each expected value's arithmetic is in its comment).
/// </summary>
public sealed class OutcomeReportTests(PipelineHost host) : IClassFixture<PipelineHost>
{
    private const string Window = "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z";

    // Four leads created in November (A, B paid search; C email; D direct) and one in October (E, outside the window).
    // Coverage: consent granted on A and C; B's medium "cpc" is an alias (a governance violation); D is direct.
    // Self-reported: A " Google Search" (→ google, self_reported_aliases), B "FB" (→ facebook, source_aliases), D "a podcast" (→ podcast).
    private static readonly string[] Touches =
    [
        """{"event_id":"rt-a","kind":"form","email":"a@fixture.test","occurred_at":"2026-11-02T10:00:00Z","consent":{"ads":true},"self_reported_source":" Google Search","page_url":"https://acme.com/?utm_source=google&utm_medium=paid_search&utm_campaign=brand"}""",
        """{"event_id":"rt-b","kind":"form","email":"b@fixture.test","occurred_at":"2026-11-04T09:00:00Z","consent":{"ads":false},"self_reported_source":"FB","page_url":"https://acme.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand"}""",
        """{"event_id":"rt-c","kind":"call","email":"c@fixture.test","occurred_at":"2026-11-06T12:00:00Z","consent":{"analytics":true,"ads":false},"page_url":"https://acme.com/?utm_source=newsletter&utm_medium=email&utm_campaign=nov"}""",
        """{"event_id":"rt-d","kind":"form","email":"d@fixture.test","occurred_at":"2026-11-09T08:00:00Z","page_url":"https://acme.com/","self_reported_source":"a podcast"}""",
        """{"event_id":"rt-e","kind":"form","email":"e@fixture.test","occurred_at":"2026-10-20T08:00:00Z","page_url":"https://acme.com/?utm_source=newsletter&utm_medium=email&utm_campaign=oct"}""",
    ];

    private static readonly string[] Outcomes =
    [
        // A: every milestone (mql +1 d, sql +3 d, opportunity +8 d, customer +10 d); answered after 3 minutes (and again later); owner rep-1.
        """{"type":"stage","stage":"mql","email":"a@fixture.test","occurred_at":"2026-11-03T10:00:00Z","owner":"rep-1"}""",
        """{"type":"stage","stage":"sql","email":"a@fixture.test","occurred_at":"2026-11-05T10:00:00Z"}""",
        """{"type":"stage","stage":"opportunity","email":"a@fixture.test","occurred_at":"2026-11-10T10:00:00Z"}""",
        """{"type":"stage","stage":"customer","email":"a@fixture.test","occurred_at":"2026-11-12T10:00:00Z"}""",
        """{"type":"response","channel":"call","by":"rep-1","email":"a@fixture.test","occurred_at":"2026-11-02T10:03:00Z"}""",
        """{"type":"response","channel":"email","by":"rep-1","email":"a@fixture.test","occurred_at":"2026-11-02T11:00:00Z"}""",
        // D1: A's deal with B in the buying group, updated three times: open 500 → won 1000 (latest) ← a late open 700 that happened in between.
        """{"type":"deal","deal_id":"D1","amount":500,"currency":"USD","status":"open","occurred_at":"2026-11-10T10:00:00Z","leads":[{"email":"a@fixture.test"},{"email":"b@fixture.test"}]}""",
        """{"type":"deal","deal_id":"D1","amount":1000,"currency":"USD","status":"won","occurred_at":"2026-11-12T10:00:00Z","leads":[{"email":"a@fixture.test"},{"email":"b@fixture.test"}]}""",
        """{"type":"deal","deal_id":"D1","amount":700,"currency":"USD","status":"open","occurred_at":"2026-11-11T10:00:00Z","leads":[{"email":"a@fixture.test"},{"email":"b@fixture.test"}]}""",
        // B: sql only (so it passed mql too); answered after 45 minutes; owner rep-2; its own deal D2 lost.
        """{"type":"stage","stage":"sql","email":"b@fixture.test","occurred_at":"2026-11-06T09:00:00Z","owner":"rep-2"}""",
        """{"type":"response","channel":"call","by":"rep-2","email":"b@fixture.test","occurred_at":"2026-11-04T09:45:00Z"}""",
        """{"type":"deal","deal_id":"D2","amount":200,"currency":"EUR","status":"lost","occurred_at":"2026-11-20T10:00:00Z","email":"b@fixture.test"}""",
        // C: customer after 8.5 days, then a regression to sql (recorded, never erases customer); answered after exactly 24 hours; owner rep-1; D3 won in EUR.
        """{"type":"stage","stage":"customer","email":"c@fixture.test","occurred_at":"2026-11-15T00:00:00Z","owner":"rep-1"}""",
        """{"type":"stage","stage":"sql","email":"c@fixture.test","occurred_at":"2026-11-18T00:00:00Z"}""",
        """{"type":"response","channel":"email","by":"rep-1","email":"c@fixture.test","occurred_at":"2026-11-07T12:00:00Z"}""",
        """{"type":"deal","deal_id":"D3","amount":500,"currency":"EUR","status":"won","occurred_at":"2026-11-15T00:00:00Z","email":"c@fixture.test"}""",
        // D: nothing. E (October): a customer with a big deal, outside the window.
        """{"type":"stage","stage":"customer","email":"e@fixture.test","occurred_at":"2026-11-02T00:00:00Z"}""",
        """{"type":"deal","deal_id":"D9","amount":9999,"currency":"USD","status":"won","occurred_at":"2026-11-02T00:00:00Z","email":"e@fixture.test"}""",
    ];

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>Posts the fixture through both doors and waits until the worker stored it all.</summary>
    internal static async Task LoadFixtureAsync(PipelineHost host)
    {
        using var writer = host.CreateClient(CollectorHost.WriteKey);
        using var server = host.CreateClient(CollectorHost.ServerKey);
        foreach (var touch in Touches)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await writer.PostAsync("/v1/touches", Json(touch))).StatusCode);
        }

        var batch = await server.PostAsync("/v1/outcomes/batch", Json($$"""{"outcomes":[{{string.Join(',', Outcomes)}}]}"""));
        Assert.Equal(HttpStatusCode.Accepted, batch.StatusCode);
        Assert.Equal(Outcomes.Length, (await batch.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32());

        // Bounded wait until the worker stored everything (touches and outcomes may land in either order).
        long touches = 0, outcomes = 0, leads = 0;
        for (var i = 0; i < 300 && (touches, outcomes, leads) != (Touches.Length, Outcomes.Length, 5); i++)
        {
            await Task.Delay(100);
            await using var connection = await host.Database.DataSource.OpenConnectionAsync();
            touches = await connection.ExecuteScalarAsync<long>("select count(*) from touches");
            outcomes = await connection.ExecuteScalarAsync<long>("select count(*) from outcomes");
            leads = await connection.ExecuteScalarAsync<long>("select count(*) from leads where merged_into is null and created_event_id is not null");
        }

        Assert.Equal((Touches.Length, Outcomes.Length, 5L), (touches, outcomes, leads));
    }

    private static JsonElement Group(JsonElement report, string name) =>
        report.GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("group").GetString() == name);

    [Fact]
    public async Task FunnelAndSpeedToLead_EqualTheHandComputedFixture()
    {
        await LoadFixtureAsync(host);
        using var reader = host.CreateClient(CollectorHost.ReadKey);

        var funnel = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/funnel?{Window}&group_by=channel&touch=first");
        Assert.Equal("USD", funnel.GetProperty("currency").GetString());
        var totals = funnel.GetProperty("totals");
        // A, B, C, D; mql: A + B (sql implies) + C (customer implies) = 3; sql: A, B, C = 3; opportunity: A, C = 2; customer: A, C = 2.
        Assert.Equal((4L, 3L, 3L, 2L, 2L), Counts(totals));
        var conversion = totals.GetProperty("conversion");
        // 3/4, 3/3, 2/3, 2/2, 2/4.
        Assert.Equal((0.75, 1.0, 0.6667, 1.0, 0.5), Conversion(conversion));
        // Won: D1 1000 USD (once, though two leads are on it) + D3 500 EUR × 1.1 = 550 → 1550 over 2 deals = 775; closed: D1, D2, D3 → 2/3.
        Assert.Equal(2, totals.GetProperty("won_deals").GetInt64());
        Assert.Equal(1550m, totals.GetProperty("revenue").GetDecimal());
        Assert.Equal(775m, totals.GetProperty("avg_deal_size").GetDecimal());
        Assert.Equal(0.6667, totals.GetProperty("win_rate").GetDouble());
        // A: Nov 2 10:00 → Nov 12 10:00 = 10 d; C: Nov 6 12:00 → Nov 15 00:00 = 8.5 d; median of two = 9.25.
        Assert.Equal(9.25, totals.GetProperty("median_days_to_customer").GetDouble());
        var between = totals.GetProperty("median_days_between");
        // Only A recorded mql; A: lead→mql 1 d, mql→sql 2 d, sql→opportunity 5 d, opportunity→customer 2 d (C has customer, then sql, no opportunity).
        Assert.Equal(1.0, between.GetProperty("lead_to_mql").GetDouble());
        Assert.Equal(2.0, between.GetProperty("mql_to_sql").GetDouble());
        Assert.Equal(5.0, between.GetProperty("sql_to_opportunity").GetDouble());
        Assert.Equal(2.0, between.GetProperty("opportunity_to_customer").GetDouble());

        var coverage = funnel.GetProperty("coverage");
        // Consent granted: A, C = 2/4; unattributed (direct): D = 1/4; violations: B = 1/4; self-reported: A, B, D = 3/4;
        // directional because 0.25 unattributed > the configured 0.2 (Reports:Coverage:MaxUnattributedShare).
        Assert.Equal((4L, 0.5, 0.25, 0.25, 0.75, true), (coverage.GetProperty("leads").GetInt64(), coverage.GetProperty("consent_granted").GetDouble(),
            coverage.GetProperty("unattributed").GetDouble(), coverage.GetProperty("governance_violations").GetDouble(), coverage.GetProperty("self_reported").GetDouble(),
            coverage.GetProperty("directional").GetBoolean()));

        var paid = Group(funnel, "paid_search");
        Assert.Equal((2L, 2L, 2L, 1L, 1L), Counts(paid));
        // D1 won (1000) and D2 lost: win rate 1/2; only A reached customer: 10 d.
        Assert.Equal((1L, 1000m, 1000m, 0.5, 10.0), (paid.GetProperty("won_deals").GetInt64(), paid.GetProperty("revenue").GetDecimal(),
            paid.GetProperty("avg_deal_size").GetDecimal(), paid.GetProperty("win_rate").GetDouble(), paid.GetProperty("median_days_to_customer").GetDouble()));
        Assert.Equal((1.0, 1.0, 0.5, 1.0, 0.5), Conversion(paid.GetProperty("conversion")));
        var email = Group(funnel, "email");
        Assert.Equal((1L, 1L, 1L, 1L, 1L), Counts(email));
        Assert.Equal((1L, 550m, 1.0, 8.5), (email.GetProperty("won_deals").GetInt64(), email.GetProperty("revenue").GetDecimal(),
            email.GetProperty("win_rate").GetDouble(), email.GetProperty("median_days_to_customer").GetDouble()));
        var direct = Group(funnel, "direct");
        Assert.Equal((1L, 0L, 0L, 0L, 0L), Counts(direct));
        Assert.Equal((0L, 0m, 0.0), (direct.GetProperty("won_deals").GetInt64(), direct.GetProperty("revenue").GetDecimal(), direct.GetProperty("win_rate").GetDouble()));
        Assert.False(direct.TryGetProperty("median_days_to_customer", out _));
        Assert.Equal(3, funnel.GetProperty("groups").GetArrayLength());

        // By week of lead creation: A, B, C in the week of Monday Nov 2; D in the week of Monday Nov 9.
        var weekly = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/funnel?{Window}&interval=week");
        var periods = weekly.GetProperty("periods").EnumerateArray().ToList();
        Assert.Equal(["2026-11-02T00:00:00+00:00", "2026-11-09T00:00:00+00:00"], periods.Select(static p => p.GetProperty("period_start").GetDateTimeOffset().ToString("yyyy-MM-dd'T'HH:mm:sszzz")));
        Assert.Equal((3L, 3L, 3L, 2L, 2L), Counts(periods[0].GetProperty("totals")));
        Assert.Equal((1L, 0L, 0L, 0L, 0L), Counts(periods[1].GetProperty("totals")));
        Assert.Equal(1550m, periods[0].GetProperty("totals").GetProperty("revenue").GetDecimal());

        // By owner: rep-1 owns A and C (both customers; revenue 1000 + 500 EUR × 1.1), rep-2 owns B (sql), D has none.
        var funnelByOwner = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/funnel?{Window}&group_by=owner");
        Assert.Equal("owner", funnelByOwner.GetProperty("group_by").GetString());
        Assert.Equal((2L, 2L, 2L, 2L, 2L), Counts(Group(funnelByOwner, "rep-1")));
        Assert.Equal(1550m, Group(funnelByOwner, "rep-1").GetProperty("revenue").GetDecimal());
        Assert.Equal((1L, 1L, 1L, 0L, 0L), Counts(Group(funnelByOwner, "rep-2")));
        Assert.Equal((1L, 0L, 0L, 0L, 0L), Counts(Group(funnelByOwner, "(none)")));

        var speed = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/speed-to-lead?{Window}&group_by=channel");
        var all = speed.GetProperty("totals");
        // First responses: A 3 min, B 45 min, C 1440 min, D never. Median of [3, 45, 1440] = 45; p90 nearest rank ⌈0.9·3⌉ = 3rd = 1440.
        Assert.Equal((4L, 3L, 45.0, 1440.0), (all.GetProperty("leads").GetInt64(), all.GetProperty("responded").GetInt64(),
            all.GetProperty("median_minutes").GetDouble(), all.GetProperty("p90_minutes").GetDouble()));
        // Within 5 min: A = 1/4; 1 h: A, B = 2/4; 24 h: A, B, C = 3/4; never: D = 1/4.
        Assert.Equal((0.25, 0.5, 0.75, 0.25), (all.GetProperty("within5_minutes").GetDouble(), all.GetProperty("within1_hour").GetDouble(),
            all.GetProperty("within24_hours").GetDouble(), all.GetProperty("never").GetDouble()));
        // Buckets: 5m = A (sql, customer); 1h = B (sql); 24h = C (sql, customer); later = none; never = D.
        Assert.Equal(
            [("5m", 1L, 1.0, 1.0), ("1h", 1L, 1.0, 0.0), ("24h", 1L, 1.0, 1.0), ("later", 0L, 0.0, 0.0), ("never", 1L, 0.0, 0.0)],
            all.GetProperty("buckets").EnumerateArray().Select(static b => (b.GetProperty("bucket").GetString(), b.GetProperty("leads").GetInt64(),
                b.GetProperty("sql_rate").GetDouble(), b.GetProperty("customer_rate").GetDouble())));
        Assert.Equal(0.25, speed.GetProperty("coverage").GetProperty("unattributed").GetDouble());
        var paidSpeed = Group(speed, "paid_search");
        // A 3, B 45: median 24; p90 ⌈1.8⌉ = 2nd = 45; both within 1 h.
        Assert.Equal((24.0, 45.0, 0.5, 1.0), (paidSpeed.GetProperty("median_minutes").GetDouble(), paidSpeed.GetProperty("p90_minutes").GetDouble(),
            paidSpeed.GetProperty("within5_minutes").GetDouble(), paidSpeed.GetProperty("within1_hour").GetDouble()));

        var byOwner = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/speed-to-lead?{Window}&group_by=owner");
        // rep-1 owns A (3 min) and C (1440 min): median 721.5, p90 1440; rep-2 owns B (45); D has no owner.
        var rep1 = Group(byOwner, "rep-1");
        Assert.Equal((2L, 721.5, 1440.0), (rep1.GetProperty("leads").GetInt64(), rep1.GetProperty("median_minutes").GetDouble(), rep1.GetProperty("p90_minutes").GetDouble()));
        Assert.Equal(45.0, Group(byOwner, "rep-2").GetProperty("median_minutes").GetDouble());
        Assert.Equal((1L, 1.0), (Group(byOwner, "(none)").GetProperty("leads").GetInt64(), Group(byOwner, "(none)").GetProperty("never").GetDouble()));

        var byKind = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/speed-to-lead?{Window}&group_by=kind");
        Assert.Equal((3L, 1L), (Group(byKind, "form").GetProperty("leads").GetInt64(), Group(byKind, "call").GetProperty("leads").GetInt64()));

        // The lead timeline shows the outcomes beside the touches: A's deal in its latest state, owner, milestones.
        var lead = await reader.GetFromJsonAsync<JsonElement>("/v1/leads?email=a@fixture.test");
        Assert.Equal(1, lead.GetProperty("touch_count").GetInt32());
        Assert.Equal("rep-1", lead.GetProperty("owner").GetString());
        var deal = lead.GetProperty("deals").EnumerateArray().Single();
        Assert.Equal(("D1", "won", 1000m), (deal.GetProperty("deal_id").GetString(), deal.GetProperty("status").GetString(), deal.GetProperty("amount").GetDecimal()));
        Assert.Equal(["mql", "sql", "opportunity", "customer"], lead.GetProperty("milestones").EnumerateArray().Select(static m => m.GetProperty("stage").GetString()));

        // Detected first-touch channel × what they said: paid search said google and facebook; the direct lead said a podcast (dark social).
        var selfReported = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/self-reported?{Window}");
        Assert.Equal((4L, 3L), (selfReported.GetProperty("leads").GetInt64(), selfReported.GetProperty("answered").GetInt64()));
        var matrix = selfReported.GetProperty("channels").EnumerateArray().ToDictionary(static r => r.GetProperty("channel").GetString()!,
            static r => (r.GetProperty("leads").GetInt64(), r.GetProperty("answered").GetInt64(),
                string.Join(",", r.GetProperty("answers").EnumerateArray().Select(static a => $"{a.GetProperty("answer").GetString()}={a.GetProperty("leads").GetInt64()}"))));
        Assert.Equal((2L, 2L, "facebook=1,google=1"), matrix["paid_search"]);
        Assert.Equal((1L, 0L, ""), matrix["email"]);
        Assert.Equal((1L, 1L, "podcast=1"), matrix["direct"]);
        Assert.Equal(["facebook", "google", "podcast"], selfReported.GetProperty("answers").EnumerateArray().Select(static a => a.GetProperty("answer").GetString()));

        var bad = await reader.GetAsync($"/v1/reports/funnel?{Window}&group_by=planet");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    private static (long, long, long, long, long) Counts(JsonElement row) => (row.GetProperty("leads").GetInt64(), row.GetProperty("mql").GetInt64(),
        row.GetProperty("sql").GetInt64(), row.GetProperty("opportunity").GetInt64(), row.GetProperty("customer").GetInt64());

    private static (double, double, double, double, double) Conversion(JsonElement c) => (c.GetProperty("lead_to_mql").GetDouble(), c.GetProperty("mql_to_sql").GetDouble(),
        c.GetProperty("sql_to_opportunity").GetDouble(), c.GetProperty("opportunity_to_customer").GetDouble(), c.GetProperty("lead_to_customer").GetDouble());
}

/// <summary>The pipeline with the speed-to-lead clock on New York business hours (Monday to Friday, 09:00-17:00).</summary>
public sealed class BusinessHoursPipelineHost : PipelineHost
{
    protected override IReadOnlyDictionary<string, string> Settings =>
        new Dictionary<string, string>(base.Settings) { ["Reports:BusinessHours:TimeZone"] = "America/New_York" };
}

public sealed class BusinessHoursReportTests(BusinessHoursPipelineHost host) : IClassFixture<BusinessHoursPipelineHost>
{
    [Fact]
    public async Task SpeedToLead_OnBusinessHours_TheClockStopsOutsideThem()
    {
        await OutcomeReportTests.LoadFixtureAsync(host);
        using var reader = host.CreateClient(CollectorHost.ReadKey);
        var speed = await reader.GetFromJsonAsync<JsonElement>("/v1/reports/speed-to-lead?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z");
        var all = speed.GetProperty("totals");
        // In New York time: A created Mon 05:00, answered 05:03 → 0; B Wed 04:00 → 04:45 → 0; C Fri 07:00 → Sat 07:00 →
        // Friday 09:00-17:00 = 480; D never. Median of [0, 0, 480] = 0; p90 = 3rd = 480.
        Assert.Equal((4L, 3L, 0.0, 480.0), (all.GetProperty("leads").GetInt64(), all.GetProperty("responded").GetInt64(),
            all.GetProperty("median_minutes").GetDouble(), all.GetProperty("p90_minutes").GetDouble()));
        // Within 5 min and 1 h: A, B = 2/4; 24 h: A, B, C = 3/4; never: D.
        Assert.Equal((0.5, 0.5, 0.75, 0.25), (all.GetProperty("within5_minutes").GetDouble(), all.GetProperty("within1_hour").GetDouble(),
            all.GetProperty("within24_hours").GetDouble(), all.GetProperty("never").GetDouble()));
    }
}
