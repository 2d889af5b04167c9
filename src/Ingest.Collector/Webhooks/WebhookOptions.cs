using Microsoft.Extensions.Options;

namespace Ingest.Collector.Webhooks;

/// <summary>Webhook secrets (<c>Webhooks</c> section). A provider without its secret is not served (404).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

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

/// <summary>Fails start-up on a blank secret (a provider is either configured or absent) or a public URL that is not absolute http(s).</summary>
public sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.CallRail.SigningKeys.Count; i++)
        {
            NotBlank(options.CallRail.SigningKeys[i], $"CallRail:SigningKeys:{i}");
        }

        NotBlank(options.Twilio.AuthToken, "Twilio:AuthToken");
        NotBlank(options.GoogleAds.Key, "GoogleAds:Key");
        NotBlank(options.Meta.AppSecret, "Meta:AppSecret");
        NotBlank(options.Meta.VerifyToken, "Meta:VerifyToken");
        if (options.Twilio.PublicBaseUrl is { } url
            && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)))
        {
            failures.Add($"{WebhookOptions.Section}:Twilio:PublicBaseUrl must be an absolute http or https URL (the address Twilio calls).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void NotBlank(string? value, string setting)
        {
            if (value is not null && string.IsNullOrWhiteSpace(value))
            {
                failures.Add($"{WebhookOptions.Section}:{setting} is blank; remove it or give it the provider's secret.");
            }
        }
    }
}
