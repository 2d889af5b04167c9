using System.Net;

namespace Ingest.IntegrationTests.Fuzz;

/// <summary>Found by the fuzz run: a query value the endpoint cannot bind answered 500 in Development.</summary>
public sealed class QueryBindingTests(CollectorHost host) : IClassFixture<CollectorHost>
{
    [Theory]
    [InlineData("/v1/leads?email=ada@example.com&limit=ZZZ")]
    [InlineData("/v1/leads?email=ada@example.com&limit=1e9")]
    [InlineData("/v1/leads/068b9a8a-dc4a-4f69-9236-f0c77ba3f2a5?limit=%00")]
    public async Task Leads_UnbindableQueryValue_Returns400Problem(string url)
    {
        using var client = host.CreateClient(CollectorHost.ReadKey);
        await TouchesApiTests.AssertProblem(await client.GetAsync(url), HttpStatusCode.BadRequest, "malformed-request");
    }

    [Theory] // found by the full fuzz run: Postgres refuses a NUL in a text parameter, answered 500
    [InlineData("/v1/leads?anonymous_id=%00", "anonymous_id")]
    [InlineData("/v1/leads?external_id=a%00b", "external_id")]
    [InlineData("/v1/leads?anonymous_id=a%0Ab", "anonymous_id")]
    public async Task Leads_IdentityWithControlCharacters_Returns400Problem(string url, string field)
    {
        using var client = host.CreateClient(CollectorHost.ReadKey);
        var problem = await TouchesApiTests.AssertProblem(await client.GetAsync(url), HttpStatusCode.BadRequest, "bad-query");
        Assert.Equal(field, problem.GetProperty("field").GetString());
    }
}
