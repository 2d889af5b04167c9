using System.Globalization;
using System.Text.RegularExpressions;

namespace Ingest.IntegrationTests.Operability;

/// <summary>
/// Tests that read /metrics run alone: OpenTelemetry subscribes to meters by name process-wide, so another collector
/// host alive in the same test process would add its counts to (or shadow) this host's series.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideMetricsCollection
{
    public const string Name = "process-wide metrics";
}

/// <summary>Reads the Prometheus text exposition of <c>/metrics</c>.</summary>
public static partial class MetricsScrape
{
    /// <summary>The samples of one metric family: the label text (or "") and the value.</summary>
    public static IReadOnlyList<(string Labels, double Value)> Samples(string exposition, string name) =>
        Sample().Matches(exposition)
            .Where(m => m.Groups["name"].Value == name)
            .Select(static m => (m.Groups["labels"].Value, double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)))
            .ToList();

    /// <summary>Scrapes until the unlabelled metric has the expected value (the exporter caches a scrape briefly), at most 5 s.</summary>
    public static async Task<double?> WaitForValueAsync(HttpClient client, string name, double expected)
    {
        double? last = null;
        for (var attempt = 0; attempt < 25; attempt++)
        {
            var samples = Samples(await client.GetStringAsync("/metrics"), name);
            last = samples.Count > 0 ? samples.Sum(static s => s.Value) : null;
            if (last == expected)
            {
                break;
            }

            await Task.Delay(200);
        }

        return last;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>[-+0-9.eENaIf]+)( \d+)?$", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
