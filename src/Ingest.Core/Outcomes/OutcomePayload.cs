namespace Ingest.Core.Outcomes;

/// <summary>
/// An outcome as a CRM or sales tool posts it (<c>POST /v1/outcomes</c>): a lifecycle stage change, a deal's state or a
/// sales response, told apart by <see cref="Type"/>. Numbers and names are validated by <see cref="OutcomeBuilder"/>.
/// </summary>
public sealed class OutcomePayload
{
    /// <summary>Optional; without it the collector derives one from the outcome's content, so a resend is stored once.</summary>
    public string? EventId { get; set; }

    /// <summary><c>stage</c>, <c>deal</c> or <c>response</c>.</summary>
    public string? Type { get; set; }

    /// <summary>RFC 3339; when the stage changed, the deal moved or sales answered (default: when received).</summary>
    public string? OccurredAt { get; set; }

    /// <summary>The system that reported it (<c>hubspot</c>, <c>salesforce</c>, <c>dialer</c> …).</summary>
    public string? SourceSystem { get; set; }

    public string? LeadId { get; set; }
    public string? Email { get; set; }
    public string? Phone { get; set; }
    public string? ExternalId { get; set; }

    /// <summary>The lead's sales owner from now on.</summary>
    public string? Owner { get; set; }

    /// <summary>Stage outcomes: <c>lead</c>, <c>mql</c>, <c>sql</c>, <c>opportunity</c>, <c>customer</c> or <c>disqualified</c>.</summary>
    public string? Stage { get; set; }

    /// <summary>Deal outcomes: the CRM's deal id.</summary>
    public string? DealId { get; set; }

    /// <summary>Deal outcomes: the deal's amount (not negative) in <see cref="Currency"/>.</summary>
    public decimal? Amount { get; set; }

    /// <summary>Deal outcomes: ISO 4217 code of <see cref="Amount"/>.</summary>
    public string? Currency { get; set; }

    /// <summary>Deal outcomes: <c>open</c>, <c>won</c> or <c>lost</c>.</summary>
    public string? Status { get; set; }

    /// <summary>Deal outcomes: every lead on the deal (a buying group), the first is its primary lead; each by id or identity.</summary>
    public List<OutcomeLeadRef>? Leads { get; set; }

    /// <summary>Deal outcomes: lead ids on the deal, after <see cref="Leads"/>.</summary>
    public List<string>? LeadIds { get; set; }

    /// <summary>Response outcomes: <c>call</c>, <c>email</c>, <c>sms</c>, <c>meeting</c> or <c>other</c>.</summary>
    public string? Channel { get; set; }

    /// <summary>Response outcomes: the owner id of who answered.</summary>
    public string? By { get; set; }
}

/// <summary>One lead on a deal, by id or by identity.</summary>
public sealed class OutcomeLeadRef
{
    public string? LeadId { get; set; }
    public string? Email { get; set; }
    public string? Phone { get; set; }
    public string? ExternalId { get; set; }
}
