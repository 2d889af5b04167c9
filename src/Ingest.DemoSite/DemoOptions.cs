namespace Ingest.DemoSite;

/// <summary>Where the demo pages load <c>ingest.js</c> from and which key they carry (<c>Demo</c> section).</summary>
public sealed class DemoOptions
{
    public const string Section = "Demo";

    /// <summary>The collector's public URL: the script tag's <c>src</c> and the contact form's <c>action</c>.</summary>
    public string CollectorUrl { get; set; } = "http://127.0.0.1:8080";

    /// <summary>The write key in the script tag (public: it sits in every page).</summary>
    public string WriteKey { get; set; } = "dev-write-key";

    /// <summary>Shown on the thank-you page in the command that reads the lead back; a read key is never put in a page's scripts.</summary>
    public string ReadKeyHint { get; set; } = "READ_KEY";
}
