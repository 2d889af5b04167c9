using System.Diagnostics;
using System.Diagnostics.Metrics;
using Ingest.ServiceDefaults;

namespace Ingest.Collector;

/// <summary>
/// Collector metrics: touches accepted and rejected by door and reason, produce latency, producer queue depth, answers
/// 429 and 503, governance reloads. Names as Prometheus exports them: deploy/observability/.
/// </summary>
public sealed class CollectorMetrics
{
    public static readonly ActivitySource ActivitySource = new(ServiceDefaultsExtensions.TelemetryName);

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Histogram<double> _produceDuration;
    private readonly Counter<long> _rateLimited;
    private readonly Counter<long> _unavailable;
    private readonly Counter<long> _governanceReloads;
    private int _inFlight;
    private int _governanceRejected;

    public CollectorMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(ServiceDefaultsExtensions.TelemetryName);
        _accepted = meter.CreateCounter<long>("ingest.touches.accepted", "{touch}", "Touches acknowledged by Kafka");
        _rejected = meter.CreateCounter<long>("ingest.touches.rejected", "{touch}", "Touches refused, by door and reason");
        _produceDuration = meter.CreateHistogram<double>("ingest.kafka.produce.duration", "ms", "Time from produce to Kafka acknowledgement");
        meter.CreateObservableGauge("ingest.kafka.queue.depth", () => Volatile.Read(ref _inFlight), "{message}", "Messages awaiting Kafka acknowledgement");
        _rateLimited = meter.CreateCounter<long>("ingest.http.rate_limited", "{response}", "Requests answered 429, by route");
        _unavailable = meter.CreateCounter<long>("ingest.http.unavailable", "{response}", "Requests answered 503 (Kafka unavailable), by route");
        _governanceReloads = meter.CreateCounter<long>("ingest.governance.reloads", "{reload}", "Governance rules file reloads, by outcome");
        meter.CreateObservableGauge("ingest.governance.reload.rejected", () => Volatile.Read(ref _governanceRejected), "{file}",
            "1 while the rules file on disk is rejected and the previous rules stay in force");
    }

    /// <summary>
    /// Counts the answers an operator alerts on, 429 and 503, whichever part of the pipeline wrote them (the rate
    /// limiter, a door, the batch endpoint). Runs as the outermost middleware.
    /// </summary>
    public async Task CountShedAnswers(HttpContext http, RequestDelegate next)
    {
        await next(http);
        var status = http.Response.StatusCode;
        if (status is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable)
        {
            var route = new KeyValuePair<string, object?>("route", (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched");
            (status == StatusCodes.Status429TooManyRequests ? _rateLimited : _unavailable).Add(1, route);
        }
    }

    /// <summary>A reload of the governance rules file was applied or rejected.</summary>
    public void GovernanceReloaded(bool rejected)
    {
        Volatile.Write(ref _governanceRejected, rejected ? 1 : 0);
        _governanceReloads.Add(1, new KeyValuePair<string, object?>("outcome", rejected ? "rejected" : "applied"));
    }

    public void Accepted(string door) => _accepted.Add(1, new KeyValuePair<string, object?>("door", door));

    public void Rejected(string door, string reason) =>
        _rejected.Add(1, new KeyValuePair<string, object?>("door", door), new KeyValuePair<string, object?>("reason", reason));

    public void ProduceStarted(int messages) => Interlocked.Add(ref _inFlight, messages);

    /// <summary>Messages produced together all acknowledged (or refused): one latency sample for them.</summary>
    public void ProduceFinished(int messages, TimeSpan elapsed)
    {
        Interlocked.Add(ref _inFlight, -messages);
        _produceDuration.Record(elapsed.TotalMilliseconds);
    }
}
