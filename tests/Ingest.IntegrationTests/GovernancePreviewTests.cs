using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Ingest.IntegrationTests;

public sealed class GovernancePreviewTests(CollectorHost host) : IClassFixture<CollectorHost>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Preview_MessyLink_ShowsNormalizedValuesBothChannelsAndViolations()
    {
        using var client = host.CreateClient(CollectorHost.ReadKey);
        var response = await client.PostAsync("/v1/governance/preview", Json(
            """{"page_url":"https://www.acme.com/spring?utm_source=FB&utm_medium=Paid%20Social&utm_campaign=Spring%20Sale&fbclid=IwAR0-AbC"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("FB", result.GetProperty("raw").GetProperty("source").GetString());
        Assert.Equal("facebook", result.GetProperty("source").GetString());
        Assert.Equal("paid_social", result.GetProperty("medium").GetString());
        Assert.Equal("IwAR0-AbC", result.GetProperty("click_id").GetString());
        Assert.Equal("meta", result.GetProperty("click_network").GetString());
        Assert.Equal("paid_social", result.GetProperty("channel").GetString());
        Assert.Equal("Paid Social", result.GetProperty("ga4_channel").GetString());
        Assert.Equal("https://www.acme.com/spring", result.GetProperty("landing_page").GetString());
        var codes = result.GetProperty("violations").EnumerateArray().Select(v => v.GetProperty("code").GetString()).ToList();
        Assert.Contains("source_alias", codes);
        Assert.Contains("campaign_pattern", codes);
        Assert.Contains("mixed_case", codes);
    }

    [Fact]
    public async Task Preview_WriteKey_Returns403Problem()
    {
        using var client = host.CreateClient(CollectorHost.WriteKey);
        var response = await client.PostAsync("/v1/governance/preview", Json("""{"page_url":"https://acme.com/"}"""));
        await TouchesApiTests.AssertProblem(response, HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task Preview_NothingToClassify_Returns422Problem()
    {
        using var client = host.CreateClient(CollectorHost.ReadKey);
        var problem = await TouchesApiTests.AssertProblem(await client.PostAsync("/v1/governance/preview", Json("{}")), HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Equal("page_url", problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Preview_MalformedJson_Returns400Problem()
    {
        using var client = host.CreateClient(CollectorHost.ReadKey);
        await TouchesApiTests.AssertProblem(await client.PostAsync("/v1/governance/preview", Json("{\"page_url\":")), HttpStatusCode.BadRequest, "malformed-request");
    }
}
