namespace Ingest.Collector.Webhooks;

/// <summary>Webhook secrets (<c>Webhooks</c> section). A provider without its secret is not served (404).</summary>
public sealed class WebhookOptions
{
    public CallRailOptions CallRail { get; set; } = new();
    public TwilioOptions Twilio { get; set; } = new();
    public GoogleAdsOptions GoogleAds { get; set; } = new();
    public MetaOptions Meta { get; set; } = new();
    public HubSpotOptions HubSpot { get; set; } = new();

    /// <summary>CallRail: one signing key per company; several are tried (rotation, multi-company accounts).</summary>
    public sealed class CallRailOptions
    {
        public List<string> SigningKeys { get; set; } = [];
    }

    /// <summary>Twilio: the account auth token; the public URL Twilio calls when behind a proxy.</summary>
    public sealed class TwilioOptions
    {
        public string? AuthToken { get; set; }
        public string? PublicBaseUrl { get; set; }
    }

    /// <summary>Google Ads lead forms: the key typed into the form's webhook settings.</summary>
    public sealed class GoogleAdsOptions
    {
        public string? Key { get; set; }
    }

    /// <summary>Meta Lead Ads: app secret (payload signatures) and the subscription verify token.</summary>
    public sealed class MetaOptions
    {
        public string? AppSecret { get; set; }
        public string? VerifyToken { get; set; }
    }

    /// <summary>HubSpot: the app's client secret (v3 signatures), the public URL when behind a proxy, custom lifecycle stages.</summary>
    public sealed class HubSpotOptions
    {
        public string? ClientSecret { get; set; }
        public string? PublicBaseUrl { get; set; }

        /// <summary>A portal's own lifecycle stage values (their internal ids) → lead, mql, sql, opportunity, customer or disqualified.</summary>
        public Dictionary<string, string> Stages { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    }
}
