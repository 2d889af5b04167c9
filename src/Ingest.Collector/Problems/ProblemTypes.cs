namespace Ingest.Collector.Problems;

/// <summary>A stable problem type: its URI and title never change, clients may switch on them.</summary>
public sealed record ProblemType(string Type, string Title);

/// <summary>Every RFC 7807 problem type the collector answers with.</summary>
public static class ProblemTypes
{
    private const string Base = "https://ingest.dev/problems/";

    public static readonly ProblemType Malformed = new(Base + "malformed-request", "The request body is not valid JSON for this endpoint");
    public static readonly ProblemType Validation = new(Base + "validation", "One or more fields are invalid");
    public static readonly ProblemType Unauthorized = new(Base + "unauthorized", "Missing or invalid credentials");
    public static readonly ProblemType Forbidden = new(Base + "forbidden", "The credentials do not allow this operation");
    public static readonly ProblemType BadSignature = new(Base + "bad-signature", "The webhook signature does not match");
    public static readonly ProblemType TooLarge = new(Base + "payload-too-large", "The request body is too large");
    public static readonly ProblemType UnsupportedMediaType = new(Base + "unsupported-media-type", "The content type is not supported here");
    public static readonly ProblemType RateLimited = new(Base + "rate-limited", "Too many requests for this key");
    public static readonly ProblemType KafkaUnavailable = new(Base + "kafka-unavailable", "The event log is temporarily unavailable; retry with the same event_id");
    public static readonly ProblemType NotFound = new(Base + "not-found", "The resource does not exist");
    public static readonly ProblemType MethodNotAllowed = new(Base + "method-not-allowed", "This method is not allowed on this resource");
    public static readonly ProblemType Internal = new(Base + "internal", "An unexpected error occurred; it has been logged");
    public static readonly ProblemType MalformedUpload = new(Base + "malformed-upload", "The uploaded file cannot be read for this endpoint");
    public static readonly ProblemType BadQuery = new(Base + "bad-query", "A query parameter is invalid");
}
