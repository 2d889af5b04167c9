using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;

namespace Ingest.IntegrationTests;

/// <summary>
/// <c>POST /v1/costs</c> against the real collector, Kafka mock, worker and Postgres: spend normalized by governance lands
/// on the funnel groups of the touches it paid for, with the figures worked out by hand in the comments.
/// </summary>
public sealed class CostsApiTests(PipelineHost host) : IClassFixture<PipelineHost>
{
    private const string Csv = "text/csv";
    private const string MarchWindow = "from=2025-03-01T00:00:00Z&to=2025-04-01T00:00:00Z";

    private static StringContent Body(string text, string type = "application/json") => new(text, Encoding.UTF8, type);

    [Fact]
    public async Task Costs_OnlyAServerKey_WriteAndReadKeysForbidden_NoKeyUnauthorized()
    {
        const string Row = """[{"date":"2025-01-05","source":"google","medium":"cpc","campaign":"brand","amount":1,"currency":"USD"}]""";
        foreach (var (key, expected) in new[] { (CollectorHost.WriteKey, HttpStatusCode.Forbidden), (CollectorHost.ReadKey, HttpStatusCode.Forbidden), ((string?)null, HttpStatusCode.Unauthorized) })
        {
            using var client = host.CreateClient(key);
            var answer = await client.PostAsync("/v1/costs", Body(Row));
            Assert.Equal(expected, answer.StatusCode);
            Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
        }

        await using var connection = await host.Database.DataSource.OpenConnectionAsync();
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("select count(*) from costs where day = '2025-01-05'"));
    }

    [Fact]
    public async Task Costs_JsonRowsWithAnUnpairedSurrogateOrANul_AreThoseRowsErrors_TheGoodRowIsStored()
    {
        // Found by the fuzz run of this door: each was a 500 for the whole upload (an unpaired surrogate escape made the
        // reader throw; Postgres refused the NUL).
        using var server = host.CreateClient(CollectorHost.ServerKey);
        const string Rows = """
            [{"date":"2025-02-03","source":"google","medium":"cpc","campaign":"\ud800","amount":1,"currency":"USD"},
             {"date":"2025-02-03","source":"goo\u0000gle","medium":"cpc","campaign":"brand","amount":2,"currency":"USD"},
             {"date":"2025-02-03","source":"google","medium":"cpc","campaign":"brand","amount":3,"currency":"USD"}]
            """;
        var answer = await server.PostAsync("/v1/costs", Body(Rows));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var rows = (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal([("rejected", "campaign", "invalid_text"), ("rejected", "source", "invalid_text")], rows.Take(2).Select(static r =>
            (r.GetProperty("status").GetString(), r.GetProperty("errors")[0].GetProperty("field").GetString(), r.GetProperty("errors")[0].GetProperty("code").GetString())));
        Assert.Equal("stored", rows[2].GetProperty("status").GetString());

        await using var connection = await host.Database.DataSource.OpenConnectionAsync();
        Assert.Equal(3m, await connection.ExecuteScalarAsync<decimal>("select sum(amount) from costs where day = '2025-02-03'"));
    }

    [Fact]
    public async Task Costs_CsvWithBadRows_StoresTheGoodRows_AnswersEachBadRowWithItsNumberAndReason()
    {
        using var server = host.CreateClient(CollectorHost.ServerKey);
        const string File = """
            date,source,medium,campaign,amount,currency
            2025-01-20,google,cpc,brand,12.50,USD
            2025-01-21,google,cpc,brand,-3,USD
            2025/01/22,google,cpc,brand,3,USD
            2025-01-23,google,cpc,brand,3,US
            2025-01-24,google,cpc,3,USD
            "2025-01-25","Google Ads","CPC","Brand, Q1",7,usd

            """;
        var answer = await server.PostAsync("/v1/costs", Body(File, Csv));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var result = await answer.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((2, 4, 0), (result.GetProperty("accepted").GetInt32(), result.GetProperty("rejected").GetInt32(), result.GetProperty("unavailable").GetInt32()));
        var rows = result.GetProperty("rows").EnumerateArray().ToList();
        // Row n is line n + 1 (the header is line 1).
        Assert.Equal([(1, 2, "stored", ""), (2, 3, "rejected", "amount:negative_amount"), (3, 4, "rejected", "date:invalid_date"),
                (4, 5, "rejected", "currency:invalid_currency"), (5, 6, "rejected", "row:column_count"), (6, 7, "stored", "")],
            rows.Select(static r => (r.GetProperty("row").GetInt32(), r.GetProperty("line").GetInt32(), r.GetProperty("status").GetString(),
                r.TryGetProperty("errors", out var e) ? string.Join(",", e.EnumerateArray().Select(static x => $"{x.GetProperty("field").GetString()}:{x.GetProperty("code").GetString()}")) : "")));
        Assert.Contains("the header has 6", rows[4].GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        // "Google Ads" / "CPC" are aliases of google / paid_search; the quoted campaign keeps its comma.
        var last = rows[5].GetProperty("cost");
        Assert.Equal(("google", "paid_search", "brand, q1", "paid_search"), (last.GetProperty("source").GetString(), last.GetProperty("medium").GetString(),
            last.GetProperty("campaign").GetString(), last.GetProperty("channel").GetString()));

        await using var connection = await host.Database.DataSource.OpenConnectionAsync();
        var stored = (await connection.QueryAsync<(DateTime Day, decimal Amount, string Currency)>(
            "select day, amount, currency from costs where day between '2025-01-20' and '2025-01-25' order by day")).ToList();
        Assert.Equal([(new DateTime(2025, 1, 20), 12.50m, "USD"), (new DateTime(2025, 1, 25), 7m, "USD")], stored);
    }

    [Fact]
    public async Task Costs_RepostOfTheSameDayAndGovernedKey_ReplacesTheAmount()
    {
        using var server = host.CreateClient(CollectorHost.ServerKey);
        var first = await (await server.PostAsync("/v1/costs", Body("""[{"date":"2025-01-10","source":"google","medium":"paid_search","campaign":"brand","amount":10,"currency":"USD"}]""")))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("stored", first.GetProperty("rows")[0].GetProperty("status").GetString());

        // Other spellings of the same source, medium and campaign: the same key after governance.
        var again = await server.PostAsync("/v1/costs", Body("""[{"date":"2025-01-10","source":" Google ","medium":"CPC","campaign":"Brand","amount":"25.5","currency":"eur"}]"""));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("replaced", (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("rows")[0].GetProperty("status").GetString());

        await using var connection = await host.Database.DataSource.OpenConnectionAsync();
        var stored = (await connection.QueryAsync<(string Source, string Medium, string Campaign, decimal Amount, string Currency)>(
            "select source, medium, campaign, amount, currency from costs where day = '2025-01-10'")).ToList();
        Assert.Equal([("google", "paid_search", "brand", 25.5m, "EUR")], stored);
    }

    [Fact]
    public async Task Costs_SameKeyTwiceInOneUpload_KeepsTheLaterRow_AndAFileOverTheRowLimitIsRefusedWhole()
    {
        using var server = host.CreateClient(CollectorHost.ServerKey);
        var answer = await (await server.PostAsync("/v1/costs", Body("date,source,medium,campaign,amount,currency\n2025-01-15,google,cpc,brand,5,USD\n2025-01-15,GOOGLE,ppc,brand,6,USD\n", Csv)))
            .Content.ReadFromJsonAsync<JsonElement>();
        var rows = answer.GetProperty("rows");
        Assert.Equal(("rejected", "duplicate_key", "stored"), (rows[0].GetProperty("status").GetString(), rows[0].GetProperty("errors")[0].GetProperty("code").GetString(),
            rows[1].GetProperty("status").GetString()));

        var tooMany = new StringBuilder("date,source,medium,campaign,amount,currency\n");
        for (var i = 0; i <= 10_000; i++)
        {
            tooMany.Append("2025-01-16,google,cpc,c").Append(i).Append(",1,USD\n");
        }

        var refused = await server.PostAsync("/v1/costs", Body(tooMany.ToString(), Csv));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);

        await using var connection = await host.Database.DataSource.OpenConnectionAsync();
        Assert.Equal(6m, await connection.ExecuteScalarAsync<decimal>("select sum(amount) from costs where day = '2025-01-15'"));
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("select count(*) from costs where day = '2025-01-16'"));
    }

    [Fact]
    public async Task Costs_BadBodies_AreProblemsNamingWhatIsWrong()
    {
        using var server = host.CreateClient(CollectorHost.ServerKey);
        var noHeader = await server.PostAsync("/v1/costs", Body("2025-01-11,google,cpc,brand,1,USD\n", Csv));
        Assert.Equal(HttpStatusCode.BadRequest, noHeader.StatusCode);
        var problem = await noHeader.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("https://ingest.dev/problems/malformed-upload", "header"), (problem.GetProperty("type").GetString(), problem.GetProperty("field").GetString()));

        var notAnArray = await server.PostAsync("/v1/costs", Body("""{"date":"2025-01-11"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, notAnArray.StatusCode);

        var xml = await server.PostAsync("/v1/costs", Body("<costs/>", "application/xml"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, xml.StatusCode);
        Assert.Equal("Content-Type", (await xml.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());

        // A JSON item of the wrong shape is that row's problem only.
        var mixed = await (await server.PostAsync("/v1/costs", Body("""[{"date":"2025-01-11","source":"google","medium":"cpc","amount":{"v":1},"currency":"USD"},7]""")))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["amount:malformed", "row:malformed"], mixed.GetProperty("rows").EnumerateArray()
            .Select(static r => $"{r.GetProperty("errors")[0].GetProperty("field").GetString()}:{r.GetProperty("errors")[0].GetProperty("code").GetString()}"));
    }

    [Fact]
    public async Task Funnel_CostsMatchedThroughAliases_CostPerLeadAndRoasAsComputedByHand()
    {
        // March 2025: P1 and P2 arrive on google paid search (P1 with the alias "cpc"), L1 on linkedin paid social.
        using var writer = host.CreateClient(CollectorHost.WriteKey);
        using var server = host.CreateClient(CollectorHost.ServerKey);
        string[] touches =
        [
            """{"event_id":"cost-p1","kind":"form","email":"p1@costs.test","occurred_at":"2025-03-03T10:00:00Z","page_url":"https://acme.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand"}""",
            """{"event_id":"cost-p2","kind":"form","email":"p2@costs.test","occurred_at":"2025-03-04T10:00:00Z","page_url":"https://acme.com/?utm_source=google&utm_medium=paid_search&utm_campaign=brand"}""",
            """{"event_id":"cost-l1","kind":"form","email":"l1@costs.test","occurred_at":"2025-03-05T10:00:00Z","page_url":"https://acme.com/?utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm"}""",
        ];
        foreach (var touch in touches)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await writer.PostAsync("/v1/touches", Body(touch))).StatusCode);
        }

        // P1 reaches sql and customer with a won deal of 3000 USD; L1 reaches sql; P2 nothing.
        var outcomes = await server.PostAsync("/v1/outcomes/batch", Body("""
            {"outcomes":[
              {"type":"stage","stage":"sql","email":"p1@costs.test","occurred_at":"2025-03-06T10:00:00Z"},
              {"type":"stage","stage":"customer","email":"p1@costs.test","occurred_at":"2025-03-10T10:00:00Z"},
              {"type":"deal","deal_id":"COST-D1","amount":3000,"currency":"USD","status":"won","email":"p1@costs.test","occurred_at":"2025-03-10T10:00:00Z"},
              {"type":"stage","stage":"sql","email":"l1@costs.test","occurred_at":"2025-03-07T10:00:00Z"}]}
            """));
        Assert.Equal(HttpStatusCode.Accepted, outcomes.StatusCode);

        // Spend as ad platforms spell it. "Google / CPC" and "google / ppc" are google / paid_search (paid_search channel);
        // "LinkedIn / paid social" is linkedin / paid_social, 200 EUR × 1.1 = 220 USD; bing / cpc is paid search without
        // any lead; 50 GBP has no rate (unconverted); February's 999 is outside the window.
        var costs = await server.PostAsync("/v1/costs", Body("""
            [{"date":"2025-03-01","source":"Google","medium":"CPC","campaign":"Brand","amount":100,"currency":"USD"},
             {"date":"2025-03-02","source":"google","medium":"ppc","campaign":"brand","amount":150,"currency":"USD"},
             {"date":"2025-03-02","source":"LinkedIn","medium":"paid social","campaign":"ABM","amount":200,"currency":"EUR"},
             {"date":"2025-03-04","source":"bing","medium":"cpc","campaign":"brand_bing","amount":30,"currency":"USD"},
             {"date":"2025-03-03","source":"facebook","medium":"paid_social","campaign":"spring","amount":50,"currency":"GBP"},
             {"date":"2025-02-28","source":"google","medium":"cpc","campaign":"brand","amount":999,"currency":"USD"}]
            """));
        Assert.Equal(6, (await costs.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32());
        await host.WaitForCountAsync("select count(*) from leads where created_event_id like 'cost-%'", 3);
        await host.WaitForCountAsync("select count(*) from outcomes o join leads l on l.lead_id = o.lead_id where l.created_event_id like 'cost-%'", 4);

        using var reader = host.CreateClient(CollectorHost.ReadKey);
        var funnel = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/funnel?{MarchWindow}&group_by=channel");
        // paid_search: 100 + 150 + 30 = 280 over 2 leads = 140, 1 sql = 280, 1 customer = 280; roas 3000 / 280 = 10.7143.
        Assert.Equal((280m, 140m, 280m, 280m, 10.7143), CostFigures(Group(funnel, "paid_search")));
        // paid_social: 220 over 1 lead, 1 sql, no customer (null); no revenue: roas 0.
        Assert.Equal((220m, 220m, 220m, (decimal?)null, 0.0), CostFigures(Group(funnel, "paid_social")));
        // Totals: 280 + 220 = 500 over 3 leads = 166.67, 2 sqls = 250, 1 customer = 500; roas 3000 / 500 = 6.
        Assert.Equal((500m, 166.67m, 250m, 500m, 6.0), CostFigures(funnel.GetProperty("totals")));
        Assert.Equal([("GBP", 50m)], funnel.GetProperty("unconverted_costs").EnumerateArray()
            .Select(static u => (u.GetProperty("currency").GetString(), u.GetProperty("amount").GetDecimal())));

        // By source: bing spent 30 without a lead, so it shows with no leads and no cost per lead.
        var bySource = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/funnel?{MarchWindow}&group_by=source");
        Assert.Equal((250m, 125m), (Group(bySource, "google").GetProperty("cost").GetDecimal(), Group(bySource, "google").GetProperty("cost_per_lead").GetDecimal()));
        var bing = Group(bySource, "bing");
        Assert.Equal((0L, 30m, false), (bing.GetProperty("leads").GetInt64(), bing.GetProperty("cost").GetDecimal(), bing.TryGetProperty("cost_per_lead", out _)));

        // By owner nothing matches a group, only the totals carry the spend.
        var byOwner = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/funnel?{MarchWindow}&group_by=owner");
        Assert.False(Group(byOwner, "(none)").TryGetProperty("cost", out _));
        Assert.Equal(500m, byOwner.GetProperty("totals").GetProperty("cost").GetDecimal());
    }

    private static JsonElement Group(JsonElement report, string name) =>
        report.GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("group").GetString() == name);

    private static (decimal, decimal, decimal, decimal?, double) CostFigures(JsonElement row) => (row.GetProperty("cost").GetDecimal(),
        row.GetProperty("cost_per_lead").GetDecimal(), row.GetProperty("cost_per_sql").GetDecimal(),
        row.TryGetProperty("cost_per_customer", out var perCustomer) ? perCustomer.GetDecimal() : null, row.GetProperty("roas").GetDouble());
}
