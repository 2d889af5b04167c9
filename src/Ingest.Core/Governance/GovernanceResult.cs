namespace Ingest.Core.Governance;

/// <summary>One broken governance rule: a stable machine code, a human message and the field it concerns.</summary>
public sealed record GovernanceViolation(string Code, string Message, string? Field);

/// <summary>UTM values exactly as received (after page-URL fallback), before normalization.</summary>
public sealed class RawUtm
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
    public RawUtm Raw { get; set; } = new();
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

    public string? LandingPage { get; set; }
    public string? ReferrerHost { get; set; }

    /// <summary><c>search</c>, <c>social</c>, <c>ai_assistant</c>, <c>email</c>, <c>internal</c>, <c>external</c> or null.</summary>
    public string? ReferrerClass { get; set; }

    /// <summary>Channel in the configured taxonomy (b2b by default).</summary>
    public string Channel { get; set; } = "other";

    /// <summary>GA4 default channel group.</summary>
    public string Ga4Channel { get; set; } = "Unassigned";

    /// <summary>Broken rules; empty when the touch is clean.</summary>
    public IReadOnlyList<GovernanceViolation> Violations { get; set; } = [];

    /// <summary>Version of the rules file that produced this result.</summary>
    public string? RulesVersion { get; set; }
}
