namespace Ingest.Core.Governance;

/// <summary>Everything governance looks at for one touch, as received (explicit fields win over the page URL's query).</summary>
public sealed class GovernanceInput
{
    public string? PageUrl { get; set; }
    public string? Referrer { get; set; }
    public string? UtmSource { get; set; }
    public string? UtmMedium { get; set; }
    public string? UtmCampaign { get; set; }
    public string? UtmTerm { get; set; }
    public string? UtmContent { get; set; }
    public string? UtmId { get; set; }

    /// <summary>Click ids as (parameter name, value) pairs, in the order received; values verbatim.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? ClickIds { get; set; }

    public string? SelfReportedSource { get; set; }

    /// <summary>Offline doors (calls, imports) classify as <c>offline</c> when no digital signal is present.</summary>
    public bool IsOffline { get; set; }

    /// <summary>The number a call was made to (call tracking): a call's source detail when nothing digital names one.</summary>
    public string? TrackingNumber { get; set; }

    /// <summary>
    /// The event an offline touch was captured at (a badge scan's event code): its source detail, and through its
    /// <c>event_codes</c> entry in the rules its channel and campaign.
    /// </summary>
    public string? EventCode { get; set; }
}
