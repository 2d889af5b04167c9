using System.Globalization;
using System.Text;

namespace Ingest.LoadTests.Pipeline;

/// <summary>
/// Touch bodies (one JSON object each) with repeated identities, deliberate duplicates (resent event ids) and late,
/// earlier-dated touches. Deterministic for a seed, so every phase of a run sends the same mix.
/// </summary>
internal sealed class TouchGenerator(string run, int seed, int expected = 300_000)
{
    private static readonly string[][] Sources =
    [
        ["google", "cpc", "brand_search", "gclid"],
        ["facebook", "paid_social", "retargeting", "fbclid"],
        ["newsletter", "email", "nov_update", ""],
        ["bing", "cpc", "competitors", "msclkid"],
        ["chatgpt.com", "referral", "", ""],
    ];

    /// <summary>Distinct people: each comes back about 15 times in 300,000 touches.</summary>
    public const int People = 20_000;

    private readonly Random _random = new(seed);
    // Touch n occurs n/10 s after the base (late ones a day earlier): the base lies far enough back that the last of
    // `expected` touches is still in the past, or the collector refuses it as dated in the future.
    private readonly DateTimeOffset _base = DateTimeOffset.UtcNow.AddDays(-1).AddSeconds(-Math.Max(0, expected - 300_000) / 10.0);
    private readonly StringBuilder _sb = new(700);
    private int _next;

    public string Run => run;
    public int Sent { get; private set; }
    public int Duplicates { get; private set; }
    public int LateEarlier { get; private set; }

    /// <summary>The next touch as a JSON object.</summary>
    public string Next()
    {
        int n;
        if (_next > 1000 && _random.Next(100) < 3)
        {
            n = _next - _random.Next(1, 1000); // a deliberate duplicate: the same event id (and body), resent
            Duplicates++;
        }
        else
        {
            n = _next++;
        }

        // Late touches are dated a day earlier than their neighbours: they must become the lead's first touch.
        var late = Hash(n) % 100 < 5;
        if (late && n == _next - 1)
        {
            LateEarlier++;
        }

        var occurred = _base.AddSeconds(late ? n / 10.0 - 86_400 : n / 10.0);
        var s = Sources[n % Sources.Length];
        var person = n % People;
        var sb = _sb.Clear();
        sb.Append("{\"event_id\":\"").Append(run).Append('-').Append(n)
            .Append("\",\"kind\":\"").Append(n % 7 == 0 ? "call" : "form")
            .Append("\",\"occurred_at\":\"").Append(occurred.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))
            .Append("\",\"anonymous_id\":\"").Append(run).Append("-anon-").Append(person);
        if (n % 3 == 0)
        {
            sb.Append("\",\"email\":\"person").Append(person).Append('@').Append(run).Append(".example.com");
        }

        sb.Append("\",\"page_url\":\"https://www.example.com/pricing?utm_source=").Append(s[0]).Append("&utm_medium=").Append(s[1]);
        if (s[2].Length > 0)
        {
            sb.Append("&utm_campaign=").Append(s[2]);
        }

        if (s[3].Length > 0)
        {
            sb.Append('&').Append(s[3]).Append("=Cj0KCQ").Append(run).Append(n);
        }

        sb.Append("\",\"referrer\":\"https://www.").Append(s[0]).Append("/\",\"consent\":{\"analytics\":true,\"ads\":").Append(n % 2 == 0 ? "true" : "false")
            .Append("},\"properties\":{\"form_id\":\"demo\",\"company\":\"Acme ").Append(person).Append("\",\"employees\":\"51-200\"}}");
        Sent++;
        return sb.ToString();
    }

    // Whether a touch is late depends on its number only, so a resent duplicate carries the same body.
    private static uint Hash(int n) => (uint)n * 2654435761u >> 7;
}
