using Ingest.Core.Outcomes;

namespace Ingest.Collector.Outcomes;

/// <summary>202 answer for one outcome.</summary>
public sealed record OutcomeAccepted(string EventId, string Status);

/// <summary>Request body of <c>POST /v1/outcomes/batch</c> (documentation type; the handler parses item by item).</summary>
public sealed record OutcomeBatchRequest(IReadOnlyList<OutcomePayload> Outcomes);
