using Microsoft.AspNetCore.Http;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Ingest.IntegrationTests.Doors;

/// <summary>A collector that allows one browser origin.</summary>
public sealed class BrowserHost : CollectorHost
{
    public const string AllowedOrigin = "https://www.acme.example";

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Collector:CorsOrigins:0"] = AllowedOrigin,
        ["Collector:Browser:IdCookieDomain"] = "acme.example",
        ["Collector:Browser:IdCookieDays"] = "200",
    };
}

public sealed class BrowserDoorTests(BrowserHost host) : IClassFixture<BrowserHost>
{
    private static HttpRequestMessage Beacon(string body, string? origin, string query = "?write_key=" + CollectorHost.WriteKey, string? userAgent = null)
    {
        // What navigator.sendBeacon sends: text/plain, no Authorization header.
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/browser/touches" + query) { Content = new StringContent(body, Encoding.UTF8, "text/plain") };
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        if (userAgent is not null)
        {
            request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        }

        return request;
    }

    private static string Visit(string eventId, string? writeKey = null) =>
        $$"""{"event_id":"{{eventId}}","kind":"visit","anonymous_id":"0193a0b0-0000-7000-8000-000000000001","page_url":"https://www.acme.example/blog?utm_source=google&utm_medium=cpc&gclid=Cj0-browser"{{(writeKey is null ? "" : $",\"write_key\":\"{writeKey}\"")}}}""";

    [Fact]
    public async Task BrowserTouch_AllowedOriginKeyInQueryOrBody_Accepted_OtherOriginsBotsAndBadKeysStoreNothing()
    {
        using var client = host.CreateClient(key: null);
        var run = Guid.NewGuid().ToString("N")[..8];

        var inQuery = await client.SendAsync(Beacon(Visit($"b-{run}-query"), BrowserHost.AllowedOrigin));
        Assert.Equal(HttpStatusCode.Accepted, inQuery.StatusCode);
        Assert.Equal("accepted", (await inQuery.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        var inBody = await client.SendAsync(Beacon(Visit($"b-{run}-body", CollectorHost.WriteKey), BrowserHost.AllowedOrigin, query: ""));
        Assert.Equal(HttpStatusCode.Accepted, inBody.StatusCode);

        var otherOrigin = await client.SendAsync(Beacon(Visit($"b-{run}-evil"), "https://evil.example"));
        Assert.Equal(HttpStatusCode.Forbidden, otherOrigin.StatusCode);
        Assert.Equal("application/problem+json", otherOrigin.Content.Headers.ContentType?.MediaType);

        var noOrigin = await client.SendAsync(Beacon(Visit($"b-{run}-none"), origin: null));
        Assert.Equal(HttpStatusCode.Forbidden, noOrigin.StatusCode);

        var badKey = await client.SendAsync(Beacon(Visit($"b-{run}-badkey"), BrowserHost.AllowedOrigin, query: "?write_key=wrong"));
        Assert.Equal(HttpStatusCode.Unauthorized, badKey.StatusCode);
        Assert.Equal("write_key", (await badKey.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());

        var readKey = await client.SendAsync(Beacon(Visit($"b-{run}-readkey"), BrowserHost.AllowedOrigin, query: "?write_key=" + CollectorHost.ReadKey));
        Assert.Equal(HttpStatusCode.Unauthorized, readKey.StatusCode);

        var bot = await client.SendAsync(Beacon(Visit($"b-{run}-bot"), BrowserHost.AllowedOrigin,
            userAgent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"));
        Assert.Equal(HttpStatusCode.Accepted, bot.StatusCode);
        Assert.Equal("dropped", (await bot.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        // Exactly the two accepted touches reached Kafka, as visits with the page's click id.
        var records = host.Kafka.ReadAll(host.Topic, 20, TimeSpan.FromSeconds(5))
            .Select(m => JsonDocument.Parse(m.Message.Value).RootElement)
            .Where(r => r.GetProperty("event_id").GetString()!.StartsWith($"b-{run}-", StringComparison.Ordinal))
            .ToList();
        Assert.Equal([$"b-{run}-body", $"b-{run}-query"], records.Select(r => r.GetProperty("event_id").GetString()).Order(StringComparer.Ordinal));
        Assert.All(records, r => Assert.Equal("visit", r.GetProperty("kind").GetString()));
        Assert.All(records, r => Assert.Equal("browser", r.GetProperty("door").GetString()));
    }

    [Fact]
    public async Task IdCookie_AllowedOrigin_SetByTheServerOnTheSiteDomain_SecureLaxLongLived_OtherOriginsRefused()
    {
        // Headers as they are on the wire: no client cookie jar (it would refuse a cookie for acme.example on localhost).
        using var client = host.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { HandleCookies = false });
        const string id = "0193a0b0-1111-7000-8000-00000000abcd";
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/id")
        {
            Content = new StringContent($$"""{"anonymous_id":"{{id}}"}""", Encoding.UTF8, "text/plain"),
        };
        request.Headers.Add("Origin", BrowserHost.AllowedOrigin);
        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(id, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("anonymous_id").GetString());
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        var attributes = cookie.Split(';', StringSplitOptions.TrimEntries).Select(a => a.ToLowerInvariant()).ToList();
        Assert.Equal($"_ingest_id={id}", cookie.Split(';')[0]);
        Assert.Contains("domain=acme.example", attributes);
        Assert.Contains("max-age=17280000", attributes); // 200 days
        Assert.Contains("secure", attributes);
        Assert.Contains("samesite=lax", attributes);
        Assert.Contains("path=/", attributes);
        Assert.DoesNotContain("httponly", attributes); // the snippet reads it
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        // The snippet calls it with credentials: the allowed origin may read the answer.
        Assert.Equal(BrowserHost.AllowedOrigin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Equal("true", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Credentials")));

        // No id in the body: the cookie's id is kept (never a new one for a known browser).
        var again = new HttpRequestMessage(HttpMethod.Post, "/v1/id") { Content = new StringContent("{}", Encoding.UTF8, "text/plain") };
        again.Headers.Add("Origin", BrowserHost.AllowedOrigin);
        again.Headers.Add("Cookie", $"_ingest_id={id}");
        Assert.Equal(id, (await (await client.SendAsync(again)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("anonymous_id").GetString());

        var evil = new HttpRequestMessage(HttpMethod.Post, "/v1/id") { Content = new StringContent("{}", Encoding.UTF8, "text/plain") };
        evil.Headers.Add("Origin", "https://evil.example");
        var refused = await client.SendAsync(evil);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.False(refused.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task Snippet_ServedCompressedWithETag_RevalidatesWith304()
    {
        using var client = host.CreateClient(key: null);
        var request = new HttpRequestMessage(HttpMethod.Get, "/v1/ingest.js");
        request.Headers.AcceptEncoding.ParseAdd("gzip");
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.True(response.Content.Headers.ContentLength <= 5 * 1024, $"ingest.js is {response.Content.Headers.ContentLength} bytes gzipped");
        var etag = response.Headers.ETag;
        Assert.NotNull(etag);

        var again = new HttpRequestMessage(HttpMethod.Get, "/v1/ingest.js");
        again.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(again)).StatusCode);
    }
}

/// <summary>A collector whose browser door allows a burst of three touches per client address.</summary>
public sealed class BrowserLimitHost : CollectorHost
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Collector:CorsOrigins:0"] = BrowserHost.AllowedOrigin,
        ["Collector:Browser:PermitsPerSecondPerAddress"] = "1",
        ["Collector:Browser:BurstPerAddress"] = "3",
    };
}

public sealed class BrowserRateLimitTests(BrowserLimitHost host) : IClassFixture<BrowserLimitHost>
{
    private async Task<HttpContext> BeaconFromAsync(string address, string eventId) =>
        await host.Server.SendAsync(c =>
        {
            c.Connection.RemoteIpAddress = System.Net.IPAddress.Parse(address);
            c.Request.Method = "POST";
            c.Request.Path = "/v1/browser/touches";
            c.Request.QueryString = new QueryString("?write_key=" + CollectorHost.WriteKey);
            c.Request.Headers.Origin = BrowserHost.AllowedOrigin;
            c.Request.ContentType = "text/plain";
            var body = Encoding.UTF8.GetBytes($$"""{"event_id":"{{eventId}}","kind":"visit","anonymous_id":"0193a0b0-0000-7000-8000-000000000002","page_url":"https://www.acme.example/"}""");
            c.Request.Body = new MemoryStream(body);
            c.Request.ContentLength = body.Length;
        });

    [Fact]
    public async Task BrowserTouches_PerClientAddress_BurstThenRateLimited_OtherAddressesUnaffected()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        int[] statuses = new int[4];
        for (var i = 0; i < statuses.Length; i++)
        {
            statuses[i] = (await BeaconFromAsync("203.0.113.7", $"rl-{run}-{i}")).Response.StatusCode;
        }

        Assert.Equal([202, 202, 202, 429], statuses);
        var limited = await BeaconFromAsync("203.0.113.7", $"rl-{run}-again");
        Assert.Equal(429, limited.Response.StatusCode);
        Assert.True(limited.Response.Headers.RetryAfter.Count == 1, "429 carries Retry-After");
        Assert.Equal("application/problem+json", limited.Response.ContentType?.Split(';')[0]);

        // Same key, another visitor's address: its own bucket.
        Assert.Equal(202, (await BeaconFromAsync("198.51.100.20", $"rl-{run}-other")).Response.StatusCode);
    }
}
