using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Ingest.IntegrationTests.Doors;

/// <summary>
/// A collector whose forms door lets each client address post 2 forms and each form take 2 posts per minute. The test
/// server has no client address, so a test header stands in for it.
/// </summary>
public sealed class FormRateLimitedHost : CollectorHost
{
    public const string ClientAddressHeader = "X-Test-Client-Address";

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Collector:FormRateLimit:ClientPermitsPerMinute"] = "1",
        ["Collector:FormRateLimit:ClientBurst"] = "2",
        ["Collector:FormRateLimit:FormPermitsPerMinute"] = "1",
        ["Collector:FormRateLimit:FormBurst"] = "2",
        ["Forms:f1:RedirectUrl"] = "https://www.acme.com/thanks",
        ["Forms:f2:RedirectUrl"] = "https://www.acme.com/thanks",
        ["Forms:f3:RedirectUrl"] = "https://www.acme.com/thanks",
        ["Forms:f4:RedirectUrl"] = "https://www.acme.com/thanks",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(static services => services.AddSingleton<IStartupFilter, ClientAddressFromHeader>());
    }

    private sealed class ClientAddressFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(static (context, then) =>
            {
                if (IPAddress.TryParse(context.Request.Headers[ClientAddressHeader].ToString(), out var address))
                {
                    context.Connection.RemoteIpAddress = address;
                }

                return then(context);
            });
            next(app);
        };
    }
}

public sealed class FormRateLimitTests(FormRateLimitedHost host) : IClassFixture<FormRateLimitedHost>
{
    private async Task<HttpResponseMessage> PostAsync(string formId, string clientAddress)
    {
        using var client = host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/forms/{formId}")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["email"] = $"rl-{formId}@example.com" }),
        };
        request.Headers.Add(FormRateLimitedHost.ClientAddressHeader, clientAddress);
        request.Headers.Accept.ParseAdd("application/json");
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task PostForm_OneClientOverItsBudgetAcrossForms_Returns429ProblemWithRetryAfter()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("f1", "192.0.2.1")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("f2", "192.0.2.1")).StatusCode);

        var limited = await PostAsync("f3", "192.0.2.1");

        await TouchesApiTests.AssertProblem(limited, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("f3", "192.0.2.2")).StatusCode);
    }

    [Fact]
    public async Task PostForm_OneFormOverItsBudgetAcrossClients_Returns429Problem()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("f4", "198.51.100.1")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("f4", "198.51.100.2")).StatusCode);

        await TouchesApiTests.AssertProblem(await PostAsync("f4", "198.51.100.3"), HttpStatusCode.TooManyRequests, "rate-limited");
    }
}
