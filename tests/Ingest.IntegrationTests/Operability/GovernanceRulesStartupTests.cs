using System.Net;
using Ingest.Core.Governance;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Ingest.IntegrationTests.Operability;

/// <summary>A collector reading its governance rules from a file the test writes.</summary>
public sealed class RulesFileHost(string rulesPath) : CollectorHost
{
    public string RulesPath => rulesPath;

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string> { ["Governance:RulesPath"] = rulesPath };

    /// <summary>The shipped rules file, found from the test's directory upwards.</summary>
    public static string ShippedRules()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "deploy", "governance", "default.yaml");
            if (File.Exists(candidate))
            {
                return File.ReadAllText(candidate);
            }
        }

        throw new FileNotFoundException("deploy/governance/default.yaml not found above " + AppContext.BaseDirectory);
    }
}

[Collection(ProcessWideMetricsCollection.Name)]
public sealed class GovernanceRulesStartupTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-rules-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Start_BrokenRulesFile_FailsStartUpNamingLineAndKey()
    {
        var path = Path.Combine(_dir, "broken.yaml");
        await File.WriteAllTextAsync(path, "version: '1'\nunknown_key: 3\n");
        var host = new RulesFileHost(path);
        await host.InitializeAsync();
        try
        {
            var ex = Assert.ThrowsAny<Exception>(() => host.CreateClient());
            var messages = string.Join(" | ", Chain(ex).Select(static e => e.Message));
            output.WriteLine(messages);
            Assert.Contains("broken.yaml line 2", messages, StringComparison.Ordinal);
            Assert.Contains("unknown_key", messages, StringComparison.Ordinal);
        }
        finally
        {
            await ((IAsyncLifetime)host).DisposeAsync();
        }
    }

    [Fact]
    public async Task Reload_BrokenRulesFile_KeepsPreviousRulesAndShowsInReadinessAndMetric()
    {
        var path = Path.Combine(_dir, "rules.yaml");
        await File.WriteAllTextAsync(path, RulesFileHost.ShippedRules());
        var host = new RulesFileHost(path);
        await host.InitializeAsync();
        try
        {
            using var client = host.CreateClient(CollectorHost.WriteKey);
            var provider = host.Services.GetRequiredService<GovernanceRulesProvider>();
            var version = provider.Current.Version;

            await File.WriteAllTextAsync(path, "version: '2'\nsource_aliases: [not, a, map]\n");
            provider.Reload();

            Assert.Equal(version, provider.Current.Version);
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/touches", ProducerTests.Touch("rules-after-bad-reload"))).StatusCode);
            var ready = await client.GetAsync("/health/ready");
            var details = await ready.Content.ReadAsStringAsync();
            output.WriteLine(details);
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Contains("governance: Degraded", details, StringComparison.Ordinal);
            Assert.Contains("rules.yaml line 2", details, StringComparison.Ordinal);
            Assert.Equal(1, await MetricsScrape.WaitForValueAsync(client, "ingest_governance_reload_rejected", expected: 1));

            await File.WriteAllTextAsync(path, RulesFileHost.ShippedRules());
            provider.Reload();
            details = await (await client.GetAsync("/health/ready")).Content.ReadAsStringAsync();
            Assert.Contains("governance: Healthy", details, StringComparison.Ordinal);
            Assert.Equal(0, await MetricsScrape.WaitForValueAsync(client, "ingest_governance_reload_rejected", expected: 0));
        }
        finally
        {
            await ((IAsyncLifetime)host).DisposeAsync();
        }
    }

    private static IEnumerable<Exception> Chain(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain))
                {
                    yield return inner;
                }
            }
        }
    }
}
