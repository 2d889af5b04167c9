using System.Collections.Frozen;
using System.Reflection;
using System.Text.Encodings.Web;

namespace Ingest.DemoSite;

/// <summary>
/// The demo pages: each embedded page body is put in one layout that carries the script tag, rendered once at start-up
/// with the configured collector URL and key (HTML-encoded).
/// </summary>
public sealed class DemoPages
{
    /// <summary>The pages by path, with their titles; the consent page loads the snippet with <c>data-require-consent</c>.</summary>
    private static readonly (string Name, string Title, bool RequireConsent)[] Pages =
    [
        ("index", "Acme Analytics: know where every lead came from", false),
        ("blog", "Blog: five UTM mistakes that break attribution", false),
        ("pricing", "Pricing", false),
        ("contact", "Talk to sales", false),
        ("thanks", "Thank you", false),
        ("app", "Acme app (a single-page app)", false),
        ("consent", "A site that asks for consent first", true),
    ];

    private readonly FrozenDictionary<string, string> _html;

    public DemoPages(DemoOptions options)
    {
        var layout = Read("layout");
        var html = HtmlEncoder.Default;
        _html = Pages.ToFrozenDictionary(
            static p => p.Name,
            p => layout
                .Replace("{{title}}", html.Encode(p.Title), StringComparison.Ordinal)
                .Replace("{{consent}}", p.RequireConsent ? " data-require-consent" : "", StringComparison.Ordinal)
                .Replace("{{body}}", Read(p.Name), StringComparison.Ordinal)
                .Replace("{{collector}}", html.Encode(options.CollectorUrl.TrimEnd('/')), StringComparison.Ordinal)
                .Replace("{{write_key}}", html.Encode(options.WriteKey), StringComparison.Ordinal)
                .Replace("{{read_key}}", html.Encode(options.ReadKeyHint), StringComparison.Ordinal),
            StringComparer.Ordinal);
    }

    /// <summary>The rendered page, or null when there is none by that name.</summary>
    public string? Find(string name) => _html.GetValueOrDefault(name);

    private static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"Ingest.DemoSite.Pages.{name}.html")
            ?? throw new InvalidOperationException($"The demo page {name}.html is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
