extern alias collector;
extern alias demosite;
extern alias worker;

using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Ingest.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Ingest.BrowserTests;

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserStack>
{
    public const string Name = "browser";
}

/// <summary>
/// Everything a visitor's browser meets, for real: the collector and the worker on Kestrel (real TCP ports), the Kafka
/// mock cluster, Postgres and Redis, the demo site on an origin of its own (<c>http://localhost:P</c>, a different host
/// from the collector's <c>http://127.0.0.1:Q</c>) and on a second origin the collector does not allow, and Debian's
/// chromium driven by Playwright.
/// </summary>
public sealed class BrowserStack : IAsyncLifetime
{
    public const string WriteKey = "browser-write-key";
    public const string ReadKey = "browser-read-key";

    private readonly KafkaCluster _kafka = new();
    private readonly RedisServer _redis = new();
    private WebApplicationFactory<collector::Program>? _collector;
    private WebApplicationFactory<worker::Program>? _worker;
    private WebApplicationFactory<demosite::Program>? _site;
    private IPlaywright? _playwright;

    public PostgresDatabase Database { get; } = new();

    /// <summary>The collector's base URL (no trailing slash).</summary>
    public string CollectorUrl { get; private set; } = "";

    /// <summary>The demo site on the origin the collector allows.</summary>
    public string SiteUrl { get; private set; } = "";

    /// <summary>The same site on an origin the collector does not list in Collector:CorsOrigins.</summary>
    public string DisallowedSiteUrl { get; private set; } = "";

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>A client of the read API (read key).</summary>
    public HttpClient Reader { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        await Database.InitializeAsync();
        await _redis.InitializeAsync();
        var topic = _kafka.CreateTopic("touches", partitions: 4);
        var deadLetters = _kafka.CreateTopic("dlq", partitions: 1);

        // The site's ports are chosen first: the collector's allowed origins and the form's thank-you page name them.
        var (sitePort, otherPort) = (FreePort(), FreePort());
        SiteUrl = $"http://localhost:{sitePort}";
        DisallowedSiteUrl = $"http://localhost:{otherPort}";

        _collector = new WebApplicationFactory<collector::Program>().WithWebHostBuilder(b =>
        {
            b.UseSettings(ServiceSettings.Collector(_kafka, topic, Database, WriteKey, ReadKey));
            b.UseSetting("Collector:CorsOrigins:0", SiteUrl);
            b.UseSetting("Forms:contact:AllowedOrigins:0", SiteUrl);
            b.UseSetting("Forms:contact:RedirectUrl", SiteUrl + "/thanks.html");
        });
        _collector.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        _collector.StartServer();
        CollectorUrl = AddressOf(_collector.Services);

        _worker = new WebApplicationFactory<worker::Program>().WithWebHostBuilder(b =>
            b.UseSettings(ServiceSettings.Worker(_kafka, topic, deadLetters, Database, _redis)));
        _ = _worker.Services;

        _site = new WebApplicationFactory<demosite::Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Demo:CollectorUrl", CollectorUrl);
            b.UseSetting("Demo:WriteKey", WriteKey);
        });
        _site.UseKestrel(o =>
        {
            o.ListenLocalhost(sitePort);
            o.ListenLocalhost(otherPort);
        });
        _site.StartServer();

        Reader = new HttpClient { BaseAddress = new Uri(CollectorUrl) };
        Reader.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ReadKey);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("INGEST_CHROMIUM") ?? "/usr/bin/chromium",
            Headless = true,
        });
    }

    public async Task DisposeAsync()
    {
        if (_playwright is not null)
        {
            await Browser.CloseAsync();
            _playwright.Dispose();
        }

        Reader?.Dispose();
        foreach (var host in new IAsyncDisposable?[] { _site, _collector, _worker })
        {
            if (host is not null)
            {
                await host.DisposeAsync();
            }
        }

        await _redis.DisposeAsync();
        await Database.DisposeAsync();
        await _kafka.DisposeAsync();
    }

    /// <summary>
    /// The lead an identity resolves to, once <paramref name="ready"/> holds for it (the worker stores touches within
    /// milliseconds; the wait is bounded at 20 s).
    /// </summary>
    public async Task<JsonElement> LeadAsync(string query, Func<JsonElement, bool> ready)
    {
        JsonElement? last = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            var response = await Reader.GetAsync("/v1/leads?" + query);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                last = await response.Content.ReadFromJsonAsync<JsonElement>();
                if (ready(last.Value))
                {
                    return last.Value;
                }
            }
        }

        Assert.Fail($"The lead {query} never became ready; last seen: {last?.ToString() ?? "none"}");
        return default;
    }

    /// <summary>How many touches the database holds for an anonymous id (0 when it is unknown), optionally only those matching <paramref name="where"/> (SQL over <c>record</c>).</summary>
    public async Task<long> StoredTouchesAsync(string anonymousId, string where = "true")
    {
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"select count(*) from touches where record->'identities'->>'anonymous_id' = $1 and ({where})";
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = anonymousId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static string AddressOf(IServiceProvider services) =>
        services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
