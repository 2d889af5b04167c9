using Microsoft.Extensions.Options;

namespace Ingest.Collector.Browser;

/// <summary>The browser door and the snippet's id cookie (<c>Collector:Browser</c>).</summary>
public sealed class BrowserOptions
{
    /// <summary>Sustained browser touches per second per client address. A page view sends at most a few touches, and one office behind NAT is one address.</summary>
    public int PermitsPerSecondPerAddress { get; set; } = 20;

    /// <summary>Burst per client address.</summary>
    public int BurstPerAddress { get; set; } = 200;

    /// <summary>Domain of the <c>_ingest_id</c> cookie set by <c>POST /v1/id</c>: the site's registrable domain (<c>acme.example</c>) when the collector runs on a subdomain of it; empty for a host-only cookie.</summary>
    public string? IdCookieDomain { get; set; }

    /// <summary>Lifetime of the id cookie in days (browsers cap cookies at 400).</summary>
    public int IdCookieDays { get; set; } = 400;
}

/// <summary>Fails start-up on browser options that cannot work, naming the setting to fix.</summary>
public sealed class BrowserOptionsValidator : IValidateOptions<BrowserOptions>
{
    public ValidateOptionsResult Validate(string? name, BrowserOptions options)
    {
        List<string>? failures = null;
        if (options.PermitsPerSecondPerAddress < 1 || options.BurstPerAddress < 1)
        {
            (failures ??= []).Add("Collector:Browser:PermitsPerSecondPerAddress and Collector:Browser:BurstPerAddress must be at least 1.");
        }

        if (options.IdCookieDays is < 1 or > 400)
        {
            (failures ??= []).Add("Collector:Browser:IdCookieDays must be between 1 and 400.");
        }

        if (options.IdCookieDomain is { Length: > 0 } domain && (domain.Contains('/') || domain.Contains(':') || !domain.Contains('.')))
        {
            (failures ??= []).Add("Collector:Browser:IdCookieDomain must be a domain name such as acme.example (no scheme, port or path).");
        }

        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
