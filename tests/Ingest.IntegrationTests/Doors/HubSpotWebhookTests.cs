using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Ingest.IntegrationTests.Doors;

/// <summary>A clock a test sets: HubSpot's signed timestamps must be within 5 minutes of the collector's now.</summary>
public sealed class SettableTime : TimeProvider
{
    public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>A collector with the HubSpot door configured and a clock the tests set.</summary>
public sealed class HubSpotHost : CollectorHost
{
    public const string ClientSecret = "hubspot-client-secret";

    public SettableTime Clock { get; } = new();

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string> { ["Webhooks:HubSpot:ClientSecret"] = ClientSecret };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));
    }
}

public sealed class HubSpotWebhookTests(HubSpotHost host) : IClassFixture<HubSpotHost>
{
    private const string Timestamp = "1733131900000";

    // Computed at authoring time with openssl over method + URI + body + timestamp, not with the code under test:
    //   { printf '%s' 'POSThttp://localhost/v1/webhooks/hubspot'; cat Samples/hubspot-lifecyclestage.json; printf '%s' '1733131900000'; } \
    //     | openssl dgst -sha256 -hmac 'hubspot-client-secret' -binary | base64
    private const string Signature = "VV3TWBKEkp9NzRZhzoJEWWiWMi43bFGNUQ1ZHoKgtMo=";

    private static readonly DateTimeOffset SentAt = DateTimeOffset.FromUnixTimeMilliseconds(1733131900000);

    private async Task<HttpResponseMessage> PostAsync(string body, string signature)
    {
        using var client = host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/hubspot") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-HubSpot-Signature-v3", signature);
        request.Headers.Add("X-HubSpot-Request-Timestamp", Timestamp);
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task HubSpot_GoodSignature_LifecycleChangesBecomeStageOutcomesOnKafka()
    {
        host.Clock.Now = SentAt.AddSeconds(30);
        var response = await PostAsync(DoorsHost.Sample("hubspot-lifecyclestage.json"), Signature);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["hubspot:12345678:1397282836", "hubspot:12345678:1397282837"], body.GetProperty("event_ids").EnumerateArray().Select(static e => e.GetString()));
        using var record = JsonDocument.Parse(host.Kafka.FindEvent(host.OutcomeTopic, "hubspot:12345678:1397282836").Message.Value);
        var root = record.RootElement;
        Assert.Equal(("stage", "sql", "hubspot", "hubspot"), (root.GetProperty("type").GetString(), root.GetProperty("stage").GetString(),
            root.GetProperty("door").GetString(), root.GetProperty("source_system").GetString()));
        Assert.Equal("65059681032", root.GetProperty("leads")[0].GetProperty("external_id").GetString());
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1733131800123), root.GetProperty("occurred_at").GetDateTimeOffset());
    }

    [Fact]
    public async Task HubSpot_TamperedBody_Is401()
    {
        host.Clock.Now = SentAt.AddSeconds(30);
        var tampered = DoorsHost.Sample("hubspot-lifecyclestage.json").Replace("salesqualifiedlead", "customer", StringComparison.Ordinal);
        var response = await PostAsync(tampered, Signature);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("https://ingest.dev/problems/bad-signature", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task HubSpot_StaleTimestamp_Is401EvenWithTheRightSignature()
    {
        host.Clock.Now = SentAt.AddMinutes(6);
        var response = await PostAsync(DoorsHost.Sample("hubspot-lifecyclestage.json"), Signature);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("5 minutes", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
