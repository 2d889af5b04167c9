using System.Net;
using System.Text;
using Ingest.Testing;

namespace Ingest.IntegrationTests;

/// <summary>Its own host: taking the broker down must not disturb other test classes.</summary>
public sealed class KafkaOutageHost : CollectorHost;

public sealed class KafkaOutageTests(KafkaOutageHost host) : IClassFixture<KafkaOutageHost>
{
    [Fact]
    public async Task PostTouch_BrokerDown_Returns503WithRetryAfterThenRecoversWhenBrokerReturns()
    {
        using var client = host.CreateClient(CollectorHost.WriteKey);
        var warm = await client.PostAsync("/v1/touches", new StringContent("""{"kind":"form","anonymous_id":"warm"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, warm.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        host.Kafka.Cluster.SetBrokerDown(1);
        var eventId = TestEnvironment.UniqueName("outage");
        var touch = $$"""{"event_id":"{{eventId}}","kind":"form","anonymous_id":"outage-1"}""";
        HttpResponseMessage down;
        try
        {
            down = await client.PostAsync("/v1/touches", new StringContent(touch, Encoding.UTF8, "application/json"));
        }
        finally
        {
            var ready = await client.GetAsync("/health/ready");
            host.Kafka.Cluster.SetBrokerUp(1);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        var problem = await TouchesApiTests.AssertProblem(down, HttpStatusCode.ServiceUnavailable, "kafka-unavailable");
        Assert.True(down.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Contains("event_id", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The client retries with the same event id once Kafka is back.
        HttpResponseMessage? retried = null;
        for (var attempt = 0; attempt < 20 && retried?.StatusCode != HttpStatusCode.Accepted; attempt++)
        {
            retried = await client.PostAsync("/v1/touches", new StringContent(touch, Encoding.UTF8, "application/json"));
        }

        Assert.Equal(HttpStatusCode.Accepted, retried!.StatusCode);
        Assert.NotNull(host.Kafka.FindEvent(host.Topic, eventId));
    }
}
