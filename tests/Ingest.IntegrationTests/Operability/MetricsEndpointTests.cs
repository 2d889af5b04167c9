using System.Net;
using Xunit.Abstractions;

namespace Ingest.IntegrationTests.Operability;

/// <summary>A collector whose keys may send 2 requests then 1 per second, and which gives up on Kafka after 1 s.</summary>
public sealed class MetricsHost : CollectorHost
{
    public const string SecondWriteKey = "metrics-second-write-key";

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Collector:WriteKeys:1"] = SecondWriteKey,
        ["Collector:RateLimit:PermitsPerSecond"] = "1",
        ["Collector:RateLimit:Burst"] = "2",
        ["Collector:Kafka:AckTimeoutMs"] = "1000",
    };
}

[Collection(ProcessWideMetricsCollection.Name)]
public sealed class MetricsEndpointTests(MetricsHost host, ITestOutputHelper output) : IClassFixture<MetricsHost>
{
    [Fact]
    public async Task Metrics_AfterAcceptedRateLimitedAndUnavailableTouches_ExposesTheirSeries()
    {
        // Every answer is kept: the expected counts are the answers seen (a loaded machine may time out the first
        // produce, which is then a 503 the metric must count too).
        var statuses = new List<HttpStatusCode>();
        using var client = host.CreateClient(CollectorHost.WriteKey);
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await client.PostAsync("/v1/touches", ProducerTests.Touch("metrics-limited"))).StatusCode);
        }

        Assert.Contains(HttpStatusCode.Accepted, statuses);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);

        using var second = host.CreateClient(MetricsHost.SecondWriteKey);
        host.Kafka.Cluster.SetBrokerDown(1);
        HttpResponseMessage unavailable;
        try
        {
            unavailable = await second.PostAsync("/v1/touches", ProducerTests.Touch("metrics-down"));
        }
        finally
        {
            host.Kafka.Cluster.SetBrokerUp(1);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
        statuses.Add(unavailable.StatusCode);

        using var scraper = host.CreateClient(key: null);
        string text = "";
        for (var attempt = 0; attempt < 25; attempt++)
        {
            var response = await scraper.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            text = await response.Content.ReadAsStringAsync();
            if (MetricsScrape.Samples(text, "ingest_http_unavailable_total").Count > 0)
            {
                break;
            }

            await Task.Delay(200);
        }

        output.WriteLine(string.Join('\n', text.Split('\n').Where(static l => l.StartsWith("ingest_", StringComparison.Ordinal))));
        Assert.Equal(statuses.Count(static s => s == HttpStatusCode.Accepted), MetricsScrape.Samples(text, "ingest_touches_accepted_total").Sum(static s => s.Value));
        Assert.Equal(statuses.Count(static s => s == HttpStatusCode.TooManyRequests), MetricsScrape.Samples(text, "ingest_http_rate_limited_total").Sum(static s => s.Value));
        Assert.Equal(statuses.Count(static s => s == HttpStatusCode.ServiceUnavailable), MetricsScrape.Samples(text, "ingest_http_unavailable_total").Sum(static s => s.Value));
        Assert.NotEmpty(MetricsScrape.Samples(text, "ingest_kafka_produce_duration_milliseconds_count"));
        Assert.NotEmpty(MetricsScrape.Samples(text, "ingest_governance_reload_rejected"));
    }

    [Fact]
    public async Task Metrics_IsNotInTheOpenApiDocument()
    {
        using var client = host.CreateClient(key: null);
        var document = await client.GetStringAsync("/openapi/v1.json");
        Assert.DoesNotContain("/metrics", document, StringComparison.Ordinal);
    }
}
