using System.Text.Json;
using Ingest.Core.Governance;

namespace Ingest.Core.Touches;

/// <summary>Normalized identity keys of a touch (email lowercased, phone in E.164).</summary>
public sealed class TouchIdentities
{
    public string? AnonymousId { get; set; }
    public string? Email { get; set; }
    public string? Phone { get; set; }
    public string? ExternalId { get; set; }

    /// <summary>The strongest key, used as the Kafka message key so one person's touches share a partition.</summary>
    public string? StrongestKey() =>
        Email is not null ? "email:" + Email
        : Phone is not null ? "phone:" + Phone
        : ExternalId is not null ? "external:" + ExternalId
        : AnonymousId is not null ? "anon:" + AnonymousId
        : null;
}

/// <summary>
/// A validated, normalized touch as it travels on <c>touches.v1</c> (schema version <see cref="SchemaVersion"/>).
/// The worker stores it as is: raw values, governed values and violations side by side.
/// </summary>
public sealed class TouchRecord
{
    public const int SchemaVersion = 1;

    /// <summary>Longest <see cref="EventId"/>: the collector refuses longer ones, the worker dead-letters them.</summary>
    public const int MaxEventIdLength = 128;

    /// <summary>Longest identity value (email, phone, anonymous or external id), checked by collector and worker alike.</summary>
    public const int MaxIdentityLength = 320;

    /// <summary>Longest <see cref="Door"/> name the worker stores.</summary>
    public const int MaxDoorLength = 64;

    public required string EventId { get; set; }
    public required TouchKind Kind { get; set; }

    /// <summary>Which door accepted it: <c>api</c>, <c>form</c>, <c>callrail</c>, <c>twilio</c>, <c>google_ads</c>, <c>meta</c>.</summary>
    public required string Door { get; set; }

    /// <summary>How it entered (<see cref="TouchMethods"/>: <c>web_form</c>, <c>visit</c>, <c>api</c> …), from its door and kind; kept apart from its source.</summary>
    public string? Method { get; set; }

    public required DateTimeOffset OccurredAt { get; set; }
    public required DateTimeOffset ReceivedAt { get; set; }

    public TouchIdentities Identities { get; set; } = new();
    public string? PageUrl { get; set; }
    public string? Referrer { get; set; }
    public GovernanceResult Attribution { get; set; } = new();

    /// <summary>Every click id seen, verbatim, by parameter name.</summary>
    public Dictionary<string, string>? ClickIds { get; set; }

    public string? SelfReportedSource { get; set; }
    public Dictionary<string, bool>? Consent { get; set; }
    public JsonElement? Properties { get; set; }

    /// <summary>Provider-specific facts (tracking number, call duration, form/ad ids, test flag …).</summary>
    public Dictionary<string, string>? Provider { get; set; }

    /// <summary>Test leads sent by an ad platform's "send test data" button.</summary>
    public bool IsTest { get; set; }

    /// <summary>Identities arrive later (Meta Lead Ads: fetched through the Graph API).</summary>
    public bool AwaitingEnrichment { get; set; }
}
