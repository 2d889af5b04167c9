using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Ingest.Collector.Forms;

/// <summary>One HTML form (<c>Forms:{formId}</c>): its thank-you page and the origins allowed to post it.</summary>
public sealed class FormSettings
{
    /// <summary>Where the browser is sent after the post (303); else back to the Referer.</summary>
    public string? RedirectUrl { get; set; }

    /// <summary>Origins (<c>https://www.acme.com</c>) allowed to post the form; empty allows any.</summary>
    public List<string> AllowedOrigins { get; set; } = [];
}

/// <summary>The configured forms by id, bound once at start-up from the <c>Forms</c> section.</summary>
public sealed partial class FormsOptions
{
    public const string Section = "Forms";

    /// <summary>Forms by id; ids are compared exactly (a strict lower-case token, see <see cref="IsFormId"/>).</summary>
    public Dictionary<string, FormSettings> Forms { get; } = new(StringComparer.Ordinal);

    /// <summary>True for a well-formed form id: lower-case letters, digits, '_' and '-', at most 64 characters.</summary>
    public static bool IsFormId(string value) => FormId().IsMatch(value);

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex FormId();
}

/// <summary>Fails start-up on a form id that is not a token, or a redirect or origin that is not an absolute http(s) URL.</summary>
public sealed class FormsOptionsValidator : IValidateOptions<FormsOptions>
{
    public ValidateOptionsResult Validate(string? name, FormsOptions options)
    {
        var failures = new List<string>();
        foreach (var (id, form) in options.Forms)
        {
            if (!FormsOptions.IsFormId(id))
            {
                failures.Add($"Forms:{id}: a form id must match ^[a-z0-9][a-z0-9_-]{{0,63}}$ (lower-case letters, digits, '_' and '-').");
            }

            if (form.RedirectUrl is { } redirect && !IsHttpUrl(redirect, out _))
            {
                failures.Add($"Forms:{id}:RedirectUrl must be an absolute http or https URL.");
            }

            for (var i = 0; i < form.AllowedOrigins.Count; i++)
            {
                if (!IsHttpUrl(form.AllowedOrigins[i], out var origin) || origin.AbsolutePath != "/" || origin.Query.Length > 0 || origin.Fragment.Length > 0 || origin.UserInfo.Length > 0)
                {
                    failures.Add($"Forms:{id}:AllowedOrigins:{i} must be an origin (scheme, host and optional port, no path), like https://www.acme.com.");
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsHttpUrl(string value, out Uri uri) =>
        Uri.TryCreate(value, UriKind.Absolute, out uri!) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}

/// <summary>
/// The forms door's own rate limits (<c>Collector:FormRateLimit</c>): the door needs no key, so it is limited per client
/// address and per form. Defaults allow a busy office behind one address and a campaign landing on one form.
/// </summary>
public sealed class FormRateLimitOptions
{
    public const string Section = "Collector:FormRateLimit";

    /// <summary>Sustained form posts per minute from one client address.</summary>
    public int ClientPermitsPerMinute { get; set; } = 60;

    /// <summary>Posts one client address may make at once before the per-minute rate applies.</summary>
    public int ClientBurst { get; set; } = 20;

    /// <summary>Sustained posts per minute to one form, from every client together.</summary>
    public int FormPermitsPerMinute { get; set; } = 6_000;

    /// <summary>Posts one form may take at once before the per-minute rate applies.</summary>
    public int FormBurst { get; set; } = 1_000;
}

/// <summary>Every limit must be a positive number.</summary>
public sealed class FormRateLimitOptionsValidator : IValidateOptions<FormRateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, FormRateLimitOptions options)
    {
        var failures = new List<string>();
        void Positive(int value, string setting)
        {
            if (value < 1)
            {
                failures.Add($"{FormRateLimitOptions.Section}:{setting} must be at least 1 (it is {value}).");
            }
        }

        Positive(options.ClientPermitsPerMinute, nameof(options.ClientPermitsPerMinute));
        Positive(options.ClientBurst, nameof(options.ClientBurst));
        Positive(options.FormPermitsPerMinute, nameof(options.FormPermitsPerMinute));
        Positive(options.FormBurst, nameof(options.FormBurst));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
