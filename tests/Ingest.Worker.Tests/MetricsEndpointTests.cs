using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Ingest.Testing;
using Xunit.Abstractions;

namespace Ingest.Worker.Tests;

[Collection(KafkaCollection.Name)]
public sealed partial class MetricsEndpointTests(KafkaCluster kafka, ITestOutputHelper output) : WorkerTestBase(kafka)
{
    [Fact]
    public async Task Metrics_AfterTouchesAndAPoisonMessage_ExposesLagDeadLettersRetriesAndBatchLatency()
    {
        var worker = StartWorker();
        await ProduceRawAsync("k", Encoding.UTF8.GetBytes("{not json"));
        await ProduceAsync(Touch("""{"event_id":"metrics-1","kind":"form","anonymous_id":"m"}"""), Touch("""{"event_id":"metrics-2","kind":"form","anonymous_id":"m"}"""));
        await WaitForTouchesAsync(2);

        using var client = worker.CreateClient();
        string text = "";
        for (var attempt = 0; attempt < 25; attempt++)
        {
            var response = await client.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            text = await response.Content.ReadAsStringAsync();
            if (Sum(text, "ingest_worker_dead_lettered_total") >= 1 && Lines(text, "ingest_worker_consumer_lag").Count > 0)
            {
                break;
            }

            await Task.Delay(200);
        }

        output.WriteLine(string.Join('\n', text.Split('\n').Where(static l => l.StartsWith("ingest_", StringComparison.Ordinal))));
        Assert.Equal(1, Sum(text, "ingest_worker_dead_lettered_total"));
        Assert.Equal(0, Sum(text, "ingest_worker_store_retries_total"));
        Assert.True(Sum(text, "ingest_worker_batch_duration_milliseconds_count") >= 1);
        Assert.Equal(2, Sum(text, "ingest_worker_touches_stored_total"));
        // One series per partition the worker holds (4), each caught up.
        var lag = Lines(text, "ingest_worker_consumer_lag");
        Assert.Equal(4, lag.Select(static l => PartitionLabel().Match(l).Value).Distinct().Count(static p => p.Length > 0));
        Assert.All(lag, static l => Assert.Equal(0, Value(l)));
    }

    private static List<string> Lines(string text, string name) =>
        text.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal)).ToList();

    private static double Sum(string text, string name) => Lines(text, name).Sum(Value);

    // "name{labels} value [timestamp]" or "name value [timestamp]".
    private static double Value(string line)
    {
        var afterLabels = line.IndexOf('}') is var end and >= 0 ? line[(end + 1)..] : line[line.IndexOf(' ')..];
        return double.Parse(afterLabels.Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"partition=""\d+""")]
    private static partial Regex PartitionLabel();
}
