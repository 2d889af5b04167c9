using Ingest.Core.Touches;

namespace Ingest.Collector.Touches;

/// <summary>202 answer for one touch.</summary>
public sealed record TouchAccepted(string EventId, string Status);

/// <summary>One item's result in a batch: <c>accepted</c>, <c>rejected</c> (with errors) or <c>unavailable</c> (retry it).</summary>
public sealed record BatchItemResult(int Index, string? EventId, string Status, IReadOnlyList<FieldError>? Errors);

/// <summary>Answer for a batch: counts and a result per item, in request order.</summary>
public sealed record BatchResult(int Accepted, int Rejected, int Unavailable, IReadOnlyList<BatchItemResult> Results);

/// <summary>Request body of <c>POST /v1/touches/batch</c> (documentation type; the handler parses item by item).</summary>
public sealed record BatchRequest(IReadOnlyList<TouchPayload> Touches);
