using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ingest.Testing;

namespace Ingest.IntegrationTests;

public sealed class TouchesApiTests(CollectorHost host) : IClassFixture<CollectorHost>
{
    private static StringContent Json(string json, string contentType = "application/json") => new(json, Encoding.UTF8, contentType);

    [Fact]
    public async Task PostTouch_ValidFormTouch_Returns202AndKafkaHoldsTheNormalizedRecord()
    {
        using var client = host.CreateClient(CollectorHost.WriteKey);
        var eventId = TestEnvironment.UniqueName("evt");
        var response = await client.PostAsync("/v1/touches", Json($$"""
            {"event_id":"{{eventId}}","kind":"form","occurred_at":"2026-11-20T10:15:00+01:00",
             "email":"  Ada.Lovelace@Example.COM ","phone":"(415) 555-0100","anonymous_id":"anon-1",
             "page_url":"https://www.example.com/pricing?utm_source=Google&utm_medium=CPC&utm_campaign=brand&gclid=AbC-123_xYz",
             "referrer":"https://www.google.com/","consent":{"ads":true},"properties":{"plan":"pro"},"unknown_field":"ignored"}
            """));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(eventId, body.GetProperty("event_id").GetString());
        Assert.Equal("accepted", body.GetProperty("status").GetString());

        var message = host.Kafka.FindEvent(host.Topic, eventId);
        Assert.Equal("email:ada.lovelace@example.com", Encoding.UTF8.GetString(message.Message.Key!));
        Assert.Equal("1", Header(message, "schema-version"));
        using var record = JsonDocument.Parse(message.Message.Value);
        var root = record.RootElement;
        Assert.Equal("form", root.GetProperty("kind").GetString());
        Assert.Equal("api", root.GetProperty("door").GetString());
        Assert.Equal(new DateTimeOffset(2026, 11, 20, 9, 15, 0, TimeSpan.Zero), root.GetProperty("occurred_at").GetDateTimeOffset());
        Assert.Equal("ada.lovelace@example.com", root.GetProperty("identities").GetProperty("email").GetString());
        Assert.Equal("+14155550100", root.GetProperty("identities").GetProperty("phone").GetString());
        var attribution = root.GetProperty("attribution");
        Assert.Equal("google", attribution.GetProperty("source").GetString());
        Assert.Equal("AbC-123_xYz", attribution.GetProperty("click_id").GetString());
        Assert.Equal("paid_search", attribution.GetProperty("channel").GetString());
        Assert.Equal("Paid Search", attribution.GetProperty("ga4_channel").GetString());
        Assert.True(root.GetProperty("consent").GetProperty("ads").GetBoolean());
        Assert.Equal("pro", root.GetProperty("properties").GetProperty("plan").GetString());
        Assert.DoesNotContain("unknown_field", Encoding.UTF8.GetString(message.Message.Value), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostTouch_NulCharacters_AreAcceptedAsReplacementCharacters_BecausePostgresCannotStoreThem()
    {
        using var client = host.CreateClient(CollectorHost.WriteKey);
        var eventId = TestEnvironment.UniqueName("evt");
        var response = await client.PostAsync("/v1/touches", Json($$$"""
            {"event_id":"{{{eventId}}}","kind":"form","anonymous_id":"nul-1","utm_source":"news\u0000letter",
             "properties":{"note":"a\u0000b","literal":"\\u0000 stays text"}}
            """));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var value = host.Kafka.FindEvent(host.Topic, eventId).Message.Value;
        Assert.False(Ingest.Core.Serialization.TouchRecordJson.ContainsNul(value));
        using var record = JsonDocument.Parse(value);
        var properties = record.RootElement.GetProperty("properties");
        Assert.Equal("a\ufffdb", properties.GetProperty("note").GetString());
        Assert.Equal("\\u0000 stays text", properties.GetProperty("literal").GetString());
        Assert.Equal("news\ufffdletter", record.RootElement.GetProperty("attribution").GetProperty("raw").GetProperty("source").GetString());
    }

    [Fact]
    public async Task PostTouch_PropertiesWithAnUnpairedSurrogate_Returns422NamingProperties()
    {
        using var client = host.CreateClient(CollectorHost.WriteKey);
        var response = await client.PostAsync("/v1/touches", Json("""{"kind":"form","anonymous_id":"s-1","properties":{"x":"\ud800"}}"""));

        var problem = await AssertProblem(response, HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Contains("properties", problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostTouch_TextPlainBeaconBody_IsAccepted()
    {
        using var client = host.CreateClient(CollectorHost.WriteKey);
        var response = await client.PostAsync("/v1/touches", Json("""{"kind":"form","anonymous_id":"beacon-1"}""", "text/plain"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task PostTouch_NoKey_Returns401Problem()
    {
        using var client = host.CreateClient(key: null);
        var response = await client.PostAsync("/v1/touches", Json("""{"kind":"form","anonymous_id":"a"}"""));
        await AssertProblem(response, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task PostTouch_WrongKey_Returns401Problem()
    {
        using var client = host.CreateClient("not-a-key");
        var response = await client.PostAsync("/v1/touches", Json("""{"kind":"form","anonymous_id":"a"}"""));
        await AssertProblem(response, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task PostTouch_ReadKey_Returns403Problem()
    {
        using var client = host.CreateClient(CollectorHost.ReadKey);
        var response = await client.PostAsync("/v1/touches", Json("""{"kind":"form","anonymous_id":"a"}"""));
        await AssertProblem(response, HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task PostTouch_MalformedJson_Returns400ProblemWithoutEchoingInput()
    {
        using var client = host.CreateClient(CollectorHost.WriteKey);
        var response = await client.PostAsync("/v1/touches", Json("""{"kind":"form","email": secret-value"""));
        var problem = await AssertProblem(response, HttpStatusCode.BadRequest, "malformed-request");
        Assert.DoesNotContain("secret-value", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostTouch_WrongFieldType_Returns400NamingTheField()
    {
        using var client = host.CreateClient(CollectorHost.WriteKey);
        var response = await client.PostAsync("/v1/touches", Json("""{"kind":"form","email":42}"""));
        var problem = await AssertProblem(response, HttpStatusCode.BadRequest, "malformed-request");
        Assert.Equal("email", problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task PostTouch_WrongContentType_Returns415Problem()
    {
        using var client = host.CreateClient(CollectorHost.WriteKey);
        var response = await client.PostAsync("/v1/touches", Json("kind=form", "application/x-www-form-urlencoded"));
        await AssertProblem(response, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [Fact]
    public async Task PostTouch_BodyOver32KiB_Returns413Problem()
    {
        using var client = host.CreateClient(CollectorHost.WriteKey);
        var big = new string('x', 33 * 1024);
        var response = await client.PostAsync("/v1/touches", Json($$"""{"kind":"form","anonymous_id":"a","utm_content":"{{big}}"}"""));
        await AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
    }

    [Theory]
    [InlineData("""{"kind":"form"}""", "identities", "no_identity")]
    [InlineData("""{"kind":"pageview","anonymous_id":"a"}""", "kind", "invalid_kind")]
    [InlineData("""{"anonymous_id":"a"}""", "kind", "missing_kind")]
    [InlineData("""{"kind":"form","anonymous_id":"a","occurred_at":"2999-01-01T00:00:00Z"}""", "occurred_at", "occurred_at_in_future")]
    [InlineData("""{"kind":"form","anonymous_id":"a","occurred_at":"yesterday"}""", "occurred_at", "invalid_timestamp")]
    [InlineData("""{"kind":"form","email":"not-an-email"}""", "email", "invalid_email")]
    [InlineData("""{"kind":"call","phone":"12"}""", "phone", "invalid_phone")]
    [InlineData("""{"kind":"form","anonymous_id":"a","properties":[1,2]}""", "properties", "invalid_properties")]
    public async Task PostTouch_SemanticallyInvalid_Returns422NamingTheField(string json, string field, string code)
    {
        using var client = host.CreateClient(CollectorHost.WriteKey);
        var response = await client.PostAsync("/v1/touches", Json(json));
        var problem = await AssertProblem(response, HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("code").GetString() == code);
    }

    [Fact]
    public async Task PostBatch_MixedItems_AcceptsGoodOnesAndRejectsBadOnesByIndex()
    {
        using var client = host.CreateClient(CollectorHost.WriteKey);
        var good1 = TestEnvironment.UniqueName("b");
        var good2 = TestEnvironment.UniqueName("b");
        var response = await client.PostAsync("/v1/touches/batch", Json($$"""
            {"touches":[
              {"event_id":"{{good1}}","kind":"form","anonymous_id":"anon-b1"},
              {"kind":"form"},
              "not an object",
              {"kind":"call","phone":["nested"]},
              {"event_id":"{{good2}}","kind":"call","phone":"+44 20 7946 0958"}
            ]}
            """));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, body.GetProperty("accepted").GetInt32());
        Assert.Equal(3, body.GetProperty("rejected").GetInt32());
        var results = body.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["accepted", "rejected", "rejected", "rejected", "accepted"], results.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal(good1, results[0].GetProperty("event_id").GetString());
        Assert.Equal("no_identity", results[1].GetProperty("errors")[0].GetProperty("code").GetString());
        Assert.Equal("touches[3].phone", results[3].GetProperty("errors")[0].GetProperty("field").GetString());

        Assert.NotNull(host.Kafka.FindEvent(host.Topic, good1));
        Assert.NotNull(host.Kafka.FindEvent(host.Topic, good2));
    }

    [Fact]
    public async Task PostBatch_Over500Touches_Returns413Problem()
    {
        using var client = host.CreateClient(CollectorHost.WriteKey);
        var items = string.Join(',', Enumerable.Range(0, 501).Select(i => $$"""{"kind":"form","anonymous_id":"a{{i}}"}"""));
        var response = await client.PostAsync("/v1/touches/batch", Json($$"""{"touches":[{{items}}]}"""));
        await AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
    }

    [Fact]
    public async Task PostBatch_NoTouchesArray_Returns400Problem()
    {
        using var client = host.CreateClient(CollectorHost.WriteKey);
        var response = await client.PostAsync("/v1/touches/batch", Json("""{"items":[]}"""));
        await AssertProblem(response, HttpStatusCode.BadRequest, "malformed-request");
    }

    internal static string? Header(Confluent.Kafka.ConsumeResult<byte[]?, byte[]> message, string name) =>
        message.Message.Headers.TryGetLastBytes(name, out var value) ? Encoding.UTF8.GetString(value) : null;

    internal static async Task<JsonElement> AssertProblem(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"https://ingest.dev/problems/{type}", problem.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }
}
