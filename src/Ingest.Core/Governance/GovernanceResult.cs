namespace Ingest.Core.Governance;

/// <summary>One broken governance rule: a stable machine code, a human message and the field it concerns.</summary>
public sealed record GovernanceViolation(string Code, string Message, string? Field);

/// <summary>UTM values exactly as received (after page-URL fallback), before normalization. A struct: no allocation.</summary>
public struct RawUtm
{
    public string? Source { get; set; }
    public string? Medium { get; set; }
    public string? Campaign { get; set; }
    public string? Term { get; set; }
    public string? Content { get; set; }
    public string? Id { get; set; }
}

/// <summary>The governed view of a touch: normalized values, click id, referrer class, both channels, violations.</summary>
public sealed class GovernanceResult
{
    public RawUtm Raw { get; set; }
    public string? Source { get; set; }
    public string? Medium { get; set; }
    public string? Campaign { get; set; }
    public string? Term { get; set; }
    public string? Content { get; set; }
    public string? UtmId { get; set; }

    /// <summary>The winning click id, verbatim (never case-changed).</summary>
    public string? ClickId { get; set; }

    /// <summary>Query parameter the click id came from (<c>gclid</c>, <c>msclkid</c>, …).</summary>
    public string? ClickIdParam { get; set; }

    /// <summary>Ad network of the click id (<c>google_ads</c>, <c>microsoft_ads</c>, …).</summary>
    public string? ClickNetwork { get; set; }

    private string? _pageUrl;
    private string? _referrer;
    private Range _referrerHost;
    private string? _landingPage;
    private string? _referrerHostText;

    /// <summary>Scheme, host and path of the page (no query): computed when read, so evaluation does not allocate it.</summary>
    public string? LandingPage
    {
        get => _landingPage ?? (_pageUrl is null ? null : UrlParts.WithoutQuery(_pageUrl).ToString());
        set => _landingPage = value;
    }

    /// <summary>Host of the referrer, lower-case.</summary>
    public string? ReferrerHost
    {
        get => _referrerHostText ?? (_referrer is null ? null : _referrer.AsSpan()[_referrerHost].ToString().ToLowerInvariant());
        set => _referrerHostText = value;
    }

    internal void SetUrls(string? pageUrl, string? referrer, Range referrerHost)
    {
        _pageUrl = pageUrl;
        _referrer = referrer;
        _referrerHost = referrerHost;
    }

    /// <summary><c>search</c>, <c>social</c>, <c>ai_assistant</c>, <c>email</c>, <c>internal</c>, <c>external</c> or null.</summary>
    public string? ReferrerClass { get; set; }

    /// <summary>Channel in the configured taxonomy (b2b by default).</summary>
    public string Channel { get; set; } = "other";

    /// <summary>GA4 default channel group.</summary>
    public string Ga4Channel { get; set; } = "Unassigned";

    private string? _sourceDetail;
    private GovernanceRules? _rules;
    private string? _b2bChannel;
    private string? _trackingNumber;
    private string? _eventCode;

    /// <summary>
    /// The drill-down beneath the channel: search engine, social network, referring domain, campaign, tracking number or
    /// event code (docs/governance.md); null for direct touches and when nothing names one. Computed when read (most
    /// details are a substring of the referrer), so evaluation does not allocate it.
    /// </summary>
    public string? SourceDetail
    {
        get => _sourceDetail ?? (_rules is null ? null : SourceDetails.Of(_rules, this, _b2bChannel!, _trackingNumber, _eventCode));
        set => _sourceDetail = value;
    }

    internal void SetSourceDetailInputs(GovernanceRules rules, string b2bChannel, string? trackingNumber, string? eventCode)
    {
        _rules = rules;
        _b2bChannel = b2bChannel;
        _trackingNumber = trackingNumber;
        _eventCode = eventCode;
    }

    /// <summary>Broken rules; empty when the touch is clean.</summary>
    public IReadOnlyList<GovernanceViolation> Violations { get; set; } = [];

    /// <summary>Version of the rules that produced this result: the file's <c>version</c>, <c>+</c>, the first 12 hex digits of the SHA-256 of the rules' normalized content.</summary>
    public string? RulesVersion { get; set; }
}
