extern alias worker;

using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ingest.Collector;
using Microsoft.Extensions.DependencyInjection;
using YamlDotNet.RepresentationModel;
using WorkerMetrics = worker::Ingest.Worker.WorkerMetrics;

namespace Ingest.Deploy.Tests;

/// <summary>
/// deploy/observability: the Grafana dashboard is valid JSON, the alert rules valid Prometheus rule YAML, and every
/// metric either names is one the services export (the instruments of CollectorMetrics and WorkerMetrics, named as
/// OpenTelemetry's Prometheus exporter names them; the scrape tests of both services read those names back).
/// </summary>
public sealed partial class ObservabilityFilesTests
{
    private const string Dashboard = "deploy/observability/grafana-dashboard.json";
    private const string Alerts = "deploy/observability/alerts.yaml";

    [Fact]
    public void Dashboard_IsGrafanaJsonWithPrometheusQueries()
    {
        using var document = JsonDocument.Parse(RepositoryFiles.ReadText(Dashboard));
        var root = document.RootElement;
        Assert.False(string.IsNullOrEmpty(root.GetProperty("uid").GetString()));
        var panels = root.GetProperty("panels").EnumerateArray().ToList();
        Assert.NotEmpty(panels);
        Assert.All(panels, p =>
        {
            Assert.False(string.IsNullOrEmpty(p.GetProperty("title").GetString()));
            Assert.All(p.GetProperty("targets").EnumerateArray(), t => Assert.False(string.IsNullOrWhiteSpace(t.GetProperty("expr").GetString())));
        });
    }

    [Fact]
    public void Alerts_AreRuleGroupsWithExprForAndSummary()
    {
        var groups = (YamlSequenceNode)RepositoryFiles.LoadYaml(Alerts).Children[new YamlScalarNode("groups")];
        var rules = groups.Cast<YamlMappingNode>().SelectMany(g => (YamlSequenceNode)g.Children[new YamlScalarNode("rules")]).Cast<YamlMappingNode>().ToList();
        Assert.NotEmpty(rules);
        Assert.All(rules, r =>
        {
            Assert.Matches("^[A-Z][A-Za-z]+$", Text(r, "alert"));
            Assert.False(string.IsNullOrWhiteSpace(Text(r, "expr")));
            Assert.Matches(@"^\d+[smh]$", Text(r, "for"));
            var annotations = (YamlMappingNode)r.Children[new YamlScalarNode("annotations")];
            Assert.False(string.IsNullOrWhiteSpace(Text(annotations, "summary")));
        });
        Assert.Equal(rules.Count, rules.Select(r => Text(r, "alert")).Distinct().Count());
    }

    [Fact]
    public void DashboardAndAlerts_UseOnlyMetricsTheServicesExport()
    {
        var exported = ExportedNames();
        var used = MetricName().Matches(RepositoryFiles.ReadText(Dashboard) + RepositoryFiles.ReadText(Alerts)).Select(static m => m.Value).Distinct().ToList();
        Assert.Contains("ingest_worker_consumer_lag", used);
        Assert.All(used, name => Assert.True(exported.Contains(name), $"{name} is not exported; exported: {string.Join(", ", exported.Order())}"));
    }

    [Fact]
    public void DashboardAndAlerts_CoverLagDeadLettersShedAnswersRetriesAndBatchLatency()
    {
        foreach (var text in new[] { RepositoryFiles.ReadText(Dashboard), RepositoryFiles.ReadText(Alerts) })
        {
            foreach (var name in new[] { "ingest_worker_consumer_lag", "ingest_worker_dead_lettered_total", "ingest_http_unavailable_total",
                         "ingest_http_rate_limited_total", "ingest_worker_store_retries_total", "ingest_worker_batch_duration_milliseconds_bucket" })
            {
                Assert.Contains(name, text, StringComparison.Ordinal);
            }
        }
    }

    // The instruments both services create, named as the OpenTelemetry Prometheus exporter writes them: dots become
    // underscores, the unit is appended ("ms" → milliseconds, annotations in braces dropped), counters end in _total,
    // histograms are exported as _bucket, _sum and _count.
    private static HashSet<string> ExportedNames()
    {
        var instruments = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == Ingest.ServiceDefaults.ServiceDefaultsExtensions.TelemetryName)
                {
                    lock (instruments)
                    {
                        instruments.Add(instrument);
                    }
                }
            },
        };
        listener.Start();
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        _ = new CollectorMetrics(factory);
        _ = new WorkerMetrics(factory);

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var instrument in instruments)
        {
            var name = instrument.Name.Replace('.', '_');
            name += instrument.Unit switch
            {
                "ms" => "_milliseconds",
                "s" => "_seconds",
                "By" => "_bytes",
                null or "" => "",
                var unit when unit.StartsWith('{') => "",
                var unit => "_" + unit,
            };
            var type = instrument.GetType();
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Counter<>))
            {
                names.Add(name + "_total");
            }
            else if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Histogram<>))
            {
                names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
            }
            else
            {
                names.Add(name);
            }
        }

        return names;
    }

    private static string Text(YamlMappingNode node, string key) => ((YamlScalarNode)node.Children[new YamlScalarNode(key)]).Value ?? "";

    [GeneratedRegex(@"\bingest_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
