using System.Net;
using System.Text;

namespace Ingest.IntegrationTests;

/// <summary>A collector whose write key may send 2 requests and then 1 per second.</summary>
public sealed class RateLimitedHost : CollectorHost
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Collector:RateLimit:PermitsPerSecond"] = "1",
        ["Collector:RateLimit:Burst"] = "2",
    };
}

public sealed class RateLimitTests(RateLimitedHost host) : IClassFixture<RateLimitedHost>
{
    [Fact]
    public async Task PostTouch_OverTheKeysBudget_Returns429ProblemWithRetryAfter()
    {
        using var client = host.CreateClient(CollectorHost.WriteKey);
        HttpResponseMessage? last = null;
        for (var i = 0; i < 4; i++)
        {
            last = await client.PostAsync("/v1/touches", new StringContent($$"""{"kind":"form","anonymous_id":"rl-{{i}}"}""", Encoding.UTF8, "application/json"));
        }

        await TouchesApiTests.AssertProblem(last!, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.True(last!.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
    }
}
