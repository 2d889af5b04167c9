using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ingest.Testing;

namespace Ingest.IntegrationTests;

public sealed class OutcomesApiTests(CollectorHost host) : IClassFixture<CollectorHost>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private const string Stage = """{"type":"stage","stage":"sql","occurred_at":"2026-11-20T10:00:00Z","email":"ada@example.com"}""";

    [Theory]
    [InlineData(CollectorHost.WriteKey, "/v1/outcomes")]
    [InlineData(CollectorHost.ReadKey, "/v1/outcomes")]
    [InlineData(CollectorHost.WriteKey, "/v1/outcomes/batch")]
    [InlineData(CollectorHost.ReadKey, "/v1/outcomes/batch")]
    public async Task PostOutcome_WriteOrReadKey_Is403(string key, string path)
    {
        using var client = host.CreateClient(key);
        var body = path.EndsWith("batch", StringComparison.Ordinal) ? $$"""{"outcomes":[{{Stage}}]}""" : Stage;
        var response = await client.PostAsync(path, Json(body));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("https://ingest.dev/problems/forbidden", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task PostOutcome_NoKeyOrUnknownKey_Is401()
    {
        using var anonymous = host.CreateClient((string?)null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/v1/outcomes", Json(Stage))).StatusCode);
        using var unknown = host.CreateClient("not-a-key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await unknown.PostAsync("/v1/outcomes", Json(Stage))).StatusCode);
    }

    [Fact]
    public async Task ServerKey_CannotReadLeadsOrSendTouches()
    {
        using var client = host.CreateClient(CollectorHost.ServerKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/v1/leads?email=ada@example.com")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync("/v1/touches", Json("""{"kind":"form","email":"ada@example.com"}"""))).StatusCode);
    }

    [Fact]
    public async Task PostOutcome_Deal_Returns202AfterKafka_IdentitiesNormalized_EventIdDerivedTheSameForAResend()
    {
        using var client = host.CreateClient(CollectorHost.ServerKey);
        var email = TestEnvironment.UniqueName("buyer") + "@Example.COM";
        var deal = $$"""
            {"type":"Deal","occurred_at":"2026-11-20T11:00:00+01:00","source_system":"crm","email":"  {{email}} ","owner":"rep-7",
             "deal_id":"D-1","amount":1200.50,"currency":"eur","status":"WON","leads":[{"phone":"(415) 555-0100"}]}
            """;
        var first = await client.PostAsync("/v1/outcomes", Json(deal));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var eventId = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("event_id").GetString()!;
        var again = await (await client.PostAsync("/v1/outcomes", Json(deal))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(eventId, again.GetProperty("event_id").GetString());

        var message = host.Kafka.FindEvent(host.OutcomeTopic, eventId);
        Assert.Equal("email:" + email.ToLowerInvariant(), Encoding.UTF8.GetString(message.Message.Key!));
        using var record = JsonDocument.Parse(message.Message.Value);
        var root = record.RootElement;
        Assert.Equal("deal", root.GetProperty("type").GetString());
        Assert.Equal("won", root.GetProperty("status").GetString());
        Assert.Equal("EUR", root.GetProperty("currency").GetString());
        Assert.Equal(1200.50m, root.GetProperty("amount").GetDecimal());
        Assert.Equal(new DateTimeOffset(2026, 11, 20, 10, 0, 0, TimeSpan.Zero), root.GetProperty("occurred_at").GetDateTimeOffset());
        var leads = root.GetProperty("leads").EnumerateArray().ToList();
        Assert.Equal(2, leads.Count);
        Assert.Equal(email.ToLowerInvariant(), leads[0].GetProperty("email").GetString());
        Assert.Equal("+14155550100", leads[1].GetProperty("phone").GetString());
    }

    [Theory]
    [InlineData("""{"type":"stage","stage":"champion","occurred_at":"2026-11-20T10:00:00Z","email":"a@example.com"}""", "stage", "invalid_stage")]
    [InlineData("""{"type":"deal","deal_id":"D","amount":-1,"currency":"USD","status":"won","occurred_at":"2026-11-20T10:00:00Z","email":"a@example.com"}""", "amount", "negative_amount")]
    [InlineData("""{"type":"deal","deal_id":"D","amount":1,"currency":"XYZ","status":"won","occurred_at":"2026-11-20T10:00:00Z","email":"a@example.com"}""", "currency", "invalid_currency")]
    [InlineData("""{"type":"deal","deal_id":"D","amount":1,"currency":"USD","status":"pending","occurred_at":"2026-11-20T10:00:00Z","email":"a@example.com"}""", "status", "invalid_status")]
    [InlineData("""{"type":"stage","stage":"sql","occurred_at":"2026-11-20T10:00:00Z"}""", "identities", "no_identity")]
    [InlineData("""{"type":"response","channel":"pigeon","occurred_at":"2026-11-20T10:00:00Z","email":"a@example.com"}""", "channel", "invalid_channel")]
    [InlineData("""{"type":"win","occurred_at":"2026-11-20T10:00:00Z","email":"a@example.com"}""", "type", "invalid_type")]
    [InlineData("""{"type":"stage","stage":"sql","email":"a@example.com"}""", "occurred_at", "missing_timestamp")]
    [InlineData("""{"type":"stage","stage":"sql","occurred_at":"2026-11-20T10:00:00Z","lead_id":"lead-7"}""", "lead_id", "invalid_lead_id")]
    public async Task PostOutcome_Invalid_Is422WithTheField(string body, string field, string code)
    {
        using var client = host.CreateClient(CollectorHost.ServerKey);
        var response = await client.PostAsync("/v1/outcomes", Json(body));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("https://ingest.dev/problems/validation", problem.GetProperty("type").GetString());
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Equal(code, problem.GetProperty("errors")[0].GetProperty("code").GetString());
    }

    [Fact]
    public async Task PostOutcomeBatch_MixedItems_ResultPerItem()
    {
        using var client = host.CreateClient(CollectorHost.ServerKey);
        var id = TestEnvironment.UniqueName("out");
        var response = await client.PostAsync("/v1/outcomes/batch", Json($$"""
            {"outcomes":[
              {"event_id":"{{id}}","type":"response","channel":"call","by":"rep-1","occurred_at":"2026-11-20T10:05:00Z","external_id":"crm-1"},
              {"type":"stage","stage":"nope","occurred_at":"2026-11-20T10:00:00Z","email":"a@example.com"},
              {"type":"stage","stage":"mql","occurred_at":12}
            ]}
            """));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, body.GetProperty("accepted").GetInt32());
        Assert.Equal(2, body.GetProperty("rejected").GetInt32());
        var results = body.GetProperty("results");
        Assert.Equal(id, results[0].GetProperty("event_id").GetString());
        Assert.Equal("stage", results[1].GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal("outcomes[2].occurred_at", results[2].GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal("response", JsonDocument.Parse(host.Kafka.FindEvent(host.OutcomeTopic, id).Message.Value).RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task PostOutcomeBatch_MoreThan500_Is413()
    {
        using var client = host.CreateClient(CollectorHost.ServerKey);
        var items = string.Join(',', Enumerable.Repeat(Stage, 501));
        var response = await client.PostAsync("/v1/outcomes/batch", Json($$"""{"outcomes":[{{items}}]}"""));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }
}
