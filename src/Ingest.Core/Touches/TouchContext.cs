namespace Ingest.Core.Touches;

/// <summary>Facts about how a touch arrived, supplied by the door that received it.</summary>
public sealed class TouchContext
{
    /// <summary><c>api</c>, <c>form</c>, <c>callrail</c>, <c>twilio</c>, <c>google_ads</c>, <c>meta</c>.</summary>
    public required string Door { get; init; }

    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>Kind used when the payload names none (forms and webhooks know their kind).</summary>
    public TouchKind? DefaultKind { get; init; }

    /// <summary>Event id derived from the provider's own id; wins over a random one, loses to an explicit <c>event_id</c>.</summary>
    public string? DerivedEventId { get; init; }

    /// <summary>
    /// The door already normalized <c>email</c> and <c>phone</c> (webhook mappings must, to choose between identities),
    /// so they are taken as given rather than parsed a second time.
    /// </summary>
    public bool IdentitiesNormalized { get; init; }

    public Dictionary<string, string>? Provider { get; init; }
    public bool IsTest { get; init; }
    public bool AwaitingEnrichment { get; init; }
}
