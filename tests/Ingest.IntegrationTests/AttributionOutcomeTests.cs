using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;

namespace Ingest.IntegrationTests;

/// <summary>
/// Attribution at lifecycle stages and by revenue: touches and outcomes through both doors, the worker and Postgres,
/// then the report and the per-lead explanation, checked against numbers worked out by hand from the fixture below
/// (each figure's arithmetic is in its comment). Every time is 10:00 UTC, so day counts are whole.
/// </summary>
public sealed class AttributionOutcomeTests(PipelineHost host) : IClassFixture<PipelineHost>
{
    private const string March = "from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z";

    // P: visits Feb 1 (paid_search), Feb 20 (paid_social), Mar 5 (direct), Mar 22 (paid_search) around the Feb 10 email
    //    form that creates the lead. Q: one paid_social form, Mar 2. R: one form, Mar 3. S: the email form that creates it,
    //    Dec 1 2025, and a paid_social visit, Mar 15.
    private static readonly string[] Touches =
    [
        """{"event_id":"ap-1","kind":"visit","anonymous_id":"anon-ap","occurred_at":"2026-02-01T10:00:00Z","page_url":"https://acme.com/?utm_source=google&utm_medium=paid_search&utm_campaign=brand"}""",
        """{"event_id":"ap-2","kind":"form","anonymous_id":"anon-ap","email":"p@attr.test","occurred_at":"2026-02-10T10:00:00Z","page_url":"https://acme.com/contact?utm_source=newsletter&utm_medium=email&utm_campaign=feb"}""",
        """{"event_id":"ap-3","kind":"visit","anonymous_id":"anon-ap","occurred_at":"2026-02-20T10:00:00Z","page_url":"https://acme.com/?utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm"}""",
        """{"event_id":"ap-4","kind":"visit","anonymous_id":"anon-ap","occurred_at":"2026-03-05T10:00:00Z","page_url":"https://acme.com/pricing"}""",
        """{"event_id":"ap-5","kind":"visit","anonymous_id":"anon-ap","occurred_at":"2026-03-22T10:00:00Z","page_url":"https://acme.com/?utm_source=google&utm_medium=paid_search&utm_campaign=brand"}""",
        """{"event_id":"aq-1","kind":"form","email":"q@attr.test","occurred_at":"2026-03-02T10:00:00Z","page_url":"https://acme.com/?utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm"}""",
        """{"event_id":"ar-1","kind":"form","email":"r@attr.test","occurred_at":"2026-03-03T10:00:00Z","page_url":"https://acme.com/?utm_source=google&utm_medium=paid_search&utm_campaign=brand"}""",
        """{"event_id":"as-1","kind":"form","anonymous_id":"anon-as","email":"s@attr.test","occurred_at":"2025-12-01T10:00:00Z","page_url":"https://acme.com/?utm_source=newsletter&utm_medium=email&utm_campaign=dec"}""",
        """{"event_id":"as-2","kind":"visit","anonymous_id":"anon-as","occurred_at":"2026-03-15T10:00:00Z","page_url":"https://acme.com/?utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm"}""",
    ];

    private static readonly string[] Outcomes =
    [
        // P: sql Mar 1 (mql implied), opportunity Mar 10, customer Mar 25. Q: customer Mar 28 (sql and opportunity implied).
        // R: mql only. S: sql Mar 20.
        """{"type":"stage","stage":"sql","email":"p@attr.test","occurred_at":"2026-03-01T10:00:00Z"}""",
        """{"type":"stage","stage":"opportunity","email":"p@attr.test","occurred_at":"2026-03-10T10:00:00Z"}""",
        """{"type":"stage","stage":"customer","email":"p@attr.test","occurred_at":"2026-03-25T10:00:00Z"}""",
        """{"type":"stage","stage":"customer","email":"q@attr.test","occurred_at":"2026-03-28T10:00:00Z"}""",
        """{"type":"stage","stage":"mql","email":"r@attr.test","occurred_at":"2026-03-04T10:00:00Z"}""",
        """{"type":"stage","stage":"sql","email":"s@attr.test","occurred_at":"2026-03-20T10:00:00Z"}""",
        // 1,200 USD won on P and Q (600 each); 300 EUR won on Q (× 1.1 = 330 USD); 100 GBP won on S (no rate for GBP).
        """{"type":"deal","deal_id":"AD-PQ","amount":1200,"currency":"USD","status":"won","occurred_at":"2026-03-25T10:00:00Z","leads":[{"email":"p@attr.test"},{"email":"q@attr.test"}]}""",
        """{"type":"deal","deal_id":"AD-Q","amount":300,"currency":"EUR","status":"won","occurred_at":"2026-03-28T10:00:00Z","email":"q@attr.test"}""",
        """{"type":"deal","deal_id":"AD-S","amount":100,"currency":"GBP","status":"won","occurred_at":"2026-03-20T10:00:00Z","email":"s@attr.test"}""",
    ];

    private static readonly string[] Models = ["first", "last", "last_non_direct", "linear", "time_decay", "u_shaped", "w_shaped", "full_path"];

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task LoadFixtureAsync()
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

        // Bounded wait until the worker stored everything and every identity's leads merged into the four people.
        (long, long, long, long) stored = default, expected = (Touches.Length, Outcomes.Length, 4, 4);
        for (var i = 0; i < 300 && stored != expected; i++)
        {
            await Task.Delay(100);
            await using var connection = await host.Database.DataSource.OpenConnectionAsync();
            stored = await connection.QuerySingleAsync<(long, long, long, long)>("""
                select (select count(*) from touches), (select count(*) from outcomes),
                       (select count(*) from leads where merged_into is null),
                       (select count(*) from leads where merged_into is null and created_event_id is not null)
                """);
        }

        Assert.Equal(expected, stored);
    }

    private static string Credits(JsonElement report, string model) => string.Join(",", report.GetProperty("models").GetProperty(model).EnumerateArray()
        .Select(static g => $"{g.GetProperty("group").GetString()}={g.GetProperty("credit").GetDouble():0.######}").Order(StringComparer.Ordinal));

    private static string Roles(JsonElement touch) => string.Join("+", touch.GetProperty("roles").EnumerateArray().Select(static r => r.GetString()));

    private static void AssertEveryModelAddsUpTo(JsonElement report, double total)
    {
        Assert.Equal(total, report.GetProperty("total").GetDouble(), 6);
        foreach (var model in Models)
        {
            Assert.Equal(total, report.GetProperty("models").GetProperty(model).EnumerateArray().Sum(static g => g.GetProperty("credit").GetDouble()), 6);
        }
    }

    [Fact]
    public async Task Attribution_AtStagesAndByRevenue_EqualsTheHandComputedFixture()
    {
        await LoadFixtureAsync();
        using var reader = host.CreateClient(CollectorHost.ReadKey);

        // sql in March: P (Mar 1), Q (Mar 28: customer is later on the ladder), S (Mar 20); R reached mql only.
        // P at sql: ap-1, ap-2, ap-3 are eligible (ap-4, ap-5 after Mar 1); its opportunity (Mar 10) is after the
        // conversion, so it has no opportunity role. Q: its one touch. S: its form is outside the 90-day lookback
        // (Mar 20 − 90 d = Dec 20), its visit alone is eligible.
        var sql = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/attribution?{March}&conversion=sql");
        Assert.Equal(("sql", "count", "b2b", 3L), (sql.GetProperty("conversion").GetString(), sql.GetProperty("value").GetString(),
            sql.GetProperty("taxonomy").GetString(), sql.GetProperty("conversions").GetInt64()));
        Assert.False(sql.TryGetProperty("currency", out _));
        AssertEveryModelAddsUpTo(sql, 3);
        // first: P ap-1; Q and S paid_social.
        Assert.Equal("paid_search=1,paid_social=2", Credits(sql, "first"));
        // w_shaped, P: 30 first + 30 lead creation, the missing opportunity's 30 split 15/15 → 45, 45; ap-3 the rest 10; Q, S 1 each.
        Assert.Equal("email=0.45,paid_search=0.45,paid_social=2.1", Credits(sql, "w_shaped"));
        Assert.Equal("email=0.45,paid_search=0.45,paid_social=2.1", Credits(sql, "full_path"));

        var p = (await reader.GetFromJsonAsync<JsonElement>("/v1/leads?email=p@attr.test")).GetProperty("lead_id").GetString();
        var pAtSql = await reader.GetFromJsonAsync<JsonElement>($"/v1/leads/{p}/attribution?conversion=sql");
        Assert.Equal(("sql", "b2b"), (pAtSql.GetProperty("conversion").GetString(), pAtSql.GetProperty("taxonomy").GetString()));
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero), pAtSql.GetProperty("converted_at").GetDateTimeOffset());
        var eligible = pAtSql.GetProperty("touches").EnumerateArray().ToList();
        Assert.Equal(["first", "lead_creation", "last"], eligible.Select(Roles));
        Assert.Equal([("ap-4", "after_conversion"), ("ap-5", "after_conversion")],
            pAtSql.GetProperty("left_out").EnumerateArray().Select(static t => (t.GetProperty("event_id").GetString(), t.GetProperty("reason").GetString())));
        // time_decay: Δt = 28, 19, 9 days; 2^(−4) = 0.0625, 2^(−19/7) = 0.1523767, 2^(−9/7) = 0.4101677; sum 0.6250444.
        double[] decay = [0.0999929, 0.2437854, 0.6562217];
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(decay[i], eligible[i].GetProperty("weights").GetProperty("time_decay").GetDouble(), 6);
        }

        Assert.Equal([0.45, 0.45, 0.1], eligible.Select(static t => Math.Round(t.GetProperty("weights").GetProperty("w_shaped").GetDouble(), 9)));

        // At customer (Mar 25) all five are eligible: the opportunity touch is ap-4 (the last at or before Mar 10), the
        // close ap-5 (the last at or before Mar 25).
        var pAtCustomer = await reader.GetFromJsonAsync<JsonElement>($"/v1/leads/{p}/attribution?conversion=customer&models=full_path");
        Assert.Equal(["first", "lead_creation", "", "opportunity_creation", "close+last"], pAtCustomer.GetProperty("touches").EnumerateArray().Select(Roles));
        Assert.Empty(pAtCustomer.GetProperty("left_out").EnumerateArray());

        // S at sql: its lead-creation form is outside the lookback; it has no customer milestone (404 there).
        var s = (await reader.GetFromJsonAsync<JsonElement>("/v1/leads?email=s@attr.test")).GetProperty("lead_id").GetString();
        var sAtSql = await reader.GetFromJsonAsync<JsonElement>($"/v1/leads/{s}/attribution?conversion=sql");
        Assert.Equal([("as-1", "outside_lookback")],
            sAtSql.GetProperty("left_out").EnumerateArray().Select(static t => (t.GetProperty("event_id").GetString(), t.GetProperty("reason").GetString())));
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync($"/v1/leads/{s}/attribution?conversion=customer")).StatusCode);

        // mql in March: P (sql Mar 1), R (Mar 4), S (Mar 20), Q (Mar 28).
        Assert.Equal(4, (await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/attribution?{March}&conversion=mql")).GetProperty("conversions").GetInt64());

        // Revenue at customer in March: P (Mar 25) and Q (Mar 28). P's value: half of AD-PQ = 600; Q's: 600 + 300 EUR × 1.1 = 930;
        // total 1530. AD-S (GBP) belongs to S, no customer conversion, so it is credited to nobody either way and is not counted here.
        var revenue = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/attribution?{March}&conversion=customer&value=revenue");
        Assert.Equal(("customer", "revenue", "USD", 2L, 0L), (revenue.GetProperty("conversion").GetString(), revenue.GetProperty("value").GetString(),
            revenue.GetProperty("currency").GetString(), revenue.GetProperty("conversions").GetInt64(), revenue.GetProperty("unconverted_deals").GetInt64()));
        AssertEveryModelAddsUpTo(revenue, 1530);
        // full_path, P: 22.5 % each to ap-1 (paid_search), ap-2 (email), ap-4 (direct, opportunity), ap-5 (paid_search, close),
        // 10 % to ap-3 (paid_social): × 600 = 270, 135, 135, 60; Q's 930 all to paid_social: 990.
        Assert.Equal("direct=135,email=135,paid_search=270,paid_social=990", Credits(revenue, "full_path"));
        // linear, P: 600 / 5 = 120 per touch (paid_search twice); Q 930: paid_social 1050.
        Assert.Equal("direct=120,email=120,paid_search=240,paid_social=1050", Credits(revenue, "linear"));
        Assert.Equal(990 / 1530.0, revenue.GetProperty("models").GetProperty("full_path")[0].GetProperty("share").GetDouble(), 6);

        // In EUR: 1200 USD ÷ 1.1 = 1090.909091 + 300 EUR = 1390.909091.
        var inEuro = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/attribution?{March}&conversion=customer&value=revenue&currency=eur");
        Assert.Equal("EUR", inEuro.GetProperty("currency").GetString());
        AssertEveryModelAddsUpTo(inEuro, 1390.909091);

        // The GA4 taxonomy groups the same credit by GA4 channel.
        var ga4 = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/attribution?{March}&conversion=customer&value=revenue&taxonomy=ga4&models=full_path");
        Assert.Equal("ga4", ga4.GetProperty("taxonomy").GetString());
        Assert.Equal("Direct=135,Email=135,Paid Search=270,Paid Social=990", Credits(ga4, "full_path"));

        // Revenue at sql: P 600, Q 930, S 0 (AD-S has no rate: not credited, counted once in unconverted_deals); total 1530.
        // linear: P 200 to each of ap-1, ap-2, ap-3; Q 930 to paid_social.
        var sqlRevenue = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/attribution?{March}&conversion=sql&value=revenue");
        Assert.Equal((3L, 1L), (sqlRevenue.GetProperty("conversions").GetInt64(), sqlRevenue.GetProperty("unconverted_deals").GetInt64()));
        AssertEveryModelAddsUpTo(sqlRevenue, 1530);
        Assert.Equal("email=200,paid_search=200,paid_social=1130", Credits(sqlRevenue, "linear"));

        foreach (var (query, field) in new[]
        {
            ("conversion=won", "conversion"), ("value=amount", "value"), ("taxonomy=ua", "taxonomy"), ("value=revenue&currency=GBP", "currency"),
            ("value=revenue&currency=EURO", "currency"),
        })
        {
            var bad = await reader.GetAsync($"/v1/reports/attribution?{March}&{query}");
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
            Assert.Equal(field, (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }

        var badLead = await reader.GetAsync($"/v1/leads/{p}/attribution?conversion=deal");
        Assert.Equal(HttpStatusCode.BadRequest, badLead.StatusCode);
        Assert.Equal("conversion", (await badLead.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        // Grouped by how the touches entered: at sql the first touches are P's visit, Q's form (POST /v1/touches: api)
        // and S's visit. Spend has no method, so no cost shows.
        var byMethod = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/attribution?{March}&conversion=sql&group_by=method");
        Assert.Equal("api=1,visit=2", Credits(byMethod, "first"));
        AssertEveryModelAddsUpTo(byMethod, 3);
        Assert.False(byMethod.TryGetProperty("cost", out _));
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/v1/reports/attribution?{March}&exclude_kinds=offline")).StatusCode);

        await SpendAndReturnOnItAsync(reader);
    }

    /// <summary>Spend in March against the credits above: cost per credited conversion, return on spend per model.</summary>
    private async Task SpendAndReturnOnItAsync(HttpClient reader)
    {
        using var server = host.CreateClient(CollectorHost.ServerKey);
        // Governed like touches: LinkedIn / paid social → paid_social (campaign abm); Google / CPC → paid_search (brand,
        // and summer, which no touch has); 40 GBP has no rate. A day in February is outside the window.
        var costs = await server.PostAsync("/v1/costs", Json("""
            [{"date":"2026-03-05","source":"LinkedIn","medium":"paid_social","campaign":"abm","amount":300,"currency":"USD"},
             {"date":"2026-03-06","source":"Google","medium":"CPC","campaign":"Brand","amount":90,"currency":"USD"},
             {"date":"2026-03-07","source":"google","medium":"cpc","campaign":"summer","amount":30,"currency":"USD"},
             {"date":"2026-03-08","source":"google","medium":"cpc","campaign":"brand","amount":40,"currency":"GBP"},
             {"date":"2026-02-27","source":"google","medium":"cpc","campaign":"brand","amount":1000,"currency":"USD"}]
            """));
        Assert.Equal(5, (await costs.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32());

        // Revenue at customer, full_path (credits above): paid_social 990 on 300 → roas 3.3; paid_search 270 on 90 + 30
        // = 120 → 2.25; email and direct have no spend. The window's cost: 420 USD; 40 GBP unconverted.
        var revenue = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/attribution?{March}&conversion=customer&value=revenue");
        Assert.Equal(420m, revenue.GetProperty("cost").GetDecimal());
        Assert.Equal(("GBP", 40m), revenue.GetProperty("unconverted_costs").EnumerateArray()
            .Select(static u => (u.GetProperty("currency").GetString(), u.GetProperty("amount").GetDecimal())).Single());
        Assert.Equal("paid_search:120:2.25,paid_social:300:3.3", Spent(revenue, "full_path"));
        AssertEveryModelAddsUpTo(revenue, 1530);

        // In EUR the cost converts too: 420 ÷ 1.1 = 381.82.
        var inEuro = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/attribution?{March}&conversion=customer&value=revenue&currency=EUR");
        Assert.Equal(381.82m, inEuro.GetProperty("cost").GetDecimal());

        // Count at sql, first: paid_search 1 conversion on 120 → 120 per sql; paid_social 2 on 300 → 150.
        var sql = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/attribution?{March}&conversion=sql&models=first");
        var first = sql.GetProperty("models").GetProperty("first").EnumerateArray()
            .ToDictionary(static g => g.GetProperty("group").GetString()!, static g => g.GetProperty("cost_per_conversion").GetDecimal());
        Assert.Equal((120m, 150m), (first["paid_search"], first["paid_social"]));

        // By campaign, full_path at customer: abm 990 on 300 → 3.3; brand 270 on 90 → 3; summer has spend and no credit:
        // listed with credit 0 and roas 0, so spend that bought nothing shows; feb and (none) have no spend.
        var byCampaign = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/attribution?{March}&conversion=customer&value=revenue&group_by=campaign&models=full_path");
        Assert.Equal("abm:300:3.3,brand:90:3,summer:30:0", Spent(byCampaign, "full_path"));
        Assert.Equal(0, byCampaign.GetProperty("models").GetProperty("full_path").EnumerateArray()
            .Single(static g => g.GetProperty("group").GetString() == "summer").GetProperty("credit").GetDouble());
    }

    // group:cost:roas of the groups with spend, in group order.
    private static string Spent(JsonElement report, string model) => string.Join(",", report.GetProperty("models").GetProperty(model).EnumerateArray()
        .Where(static g => g.TryGetProperty("cost", out var c) && c.ValueKind == JsonValueKind.Number)
        .Select(static g => $"{g.GetProperty("group").GetString()}:{g.GetProperty("cost").GetDecimal():0.##}:{g.GetProperty("roas").GetDouble():0.######}")
        .Order(StringComparer.Ordinal));
}
