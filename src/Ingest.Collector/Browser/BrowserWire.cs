namespace Ingest.Collector.Browser;

/// <summary>Body and answer of <c>POST /v1/id</c>: the visitor's anonymous id.</summary>
public sealed record AnonymousIdBody(string? AnonymousId);
