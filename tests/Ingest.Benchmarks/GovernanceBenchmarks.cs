using BenchmarkDotNet.Attributes;
using Ingest.Core.Governance;

namespace Ingest.Benchmarks;

/// <summary>
/// Normalize + classify on a realistic mix of touches (issue 3 target: ≥ 1,000,000 touches/s on one core, at most one
/// allocation per touch for clean input). Inputs are built once; each operation evaluates the whole mix.
/// </summary>
[MemoryDiagnoser]
public class GovernanceBenchmarks
{
    private readonly GovernanceEngine _engine = new(GovernanceRules.Default);
    private GovernanceInput[] _clean = [];
    private GovernanceInput[] _mixed = [];

    [GlobalSetup]
    public void Setup()
    {
        // Clean: explicit, already-normalized values (what a well-governed site sends).
        _clean =
        [
            new() { UtmSource = "google", UtmMedium = "paid_search", UtmCampaign = "brand_q4", PageUrl = "https://www.acme.com/pricing", Referrer = "https://www.google.com/" },
            new() { UtmSource = "linkedin", UtmMedium = "paid_social", UtmCampaign = "abm_enterprise", PageUrl = "https://www.acme.com/demo" },
            new() { UtmSource = "newsletter", UtmMedium = "email", UtmCampaign = "nov_update", PageUrl = "https://www.acme.com/blog/post" },
            new() { PageUrl = "https://www.acme.com/", Referrer = "https://chatgpt.com/" },
            new() { PageUrl = "https://www.acme.com/", Referrer = "https://www.bing.com/search?q=acme" },
            new() { PageUrl = "https://www.acme.com/" },
            new() { IsOffline = true },
            new() { UtmSource = "g2", UtmMedium = "partner", UtmCampaign = "reviews_2026", PageUrl = "https://www.acme.com/" },
        ];

        // Mixed: what arrives in practice — UTMs in the page URL, aliases, mixed case, click ids.
        _mixed =
        [
            new() { PageUrl = "https://www.acme.com/pricing?utm_source=Google&utm_medium=CPC&utm_campaign=Brand_Q4&gclid=Cj0KCQiA1234567890abcdef", Referrer = "https://www.google.com/" },
            new() { PageUrl = "https://www.acme.com/demo?utm_source=fb&utm_medium=paid%20social&utm_campaign=retargeting&fbclid=IwAR0abcdef" },
            new() { PageUrl = "https://www.acme.com/?utm_source=newsletter&utm_medium=e-mail&utm_campaign=nov" },
            new() { PageUrl = "https://www.acme.com/?li_fat_id=abc-123", Referrer = "https://www.linkedin.com/" },
            new() { PageUrl = "https://www.acme.com/", Referrer = "https://www.perplexity.ai/search" },
            new() { PageUrl = "https://www.acme.com/?msclkid=0123abc&utm_source=bing&utm_medium=cpc&utm_campaign=competitors" },
            new() { IsOffline = true },
            new() { PageUrl = "https://www.acme.com/", Referrer = "https://news.ycombinator.com/item?id=1" },
        ];
    }

    [Benchmark(OperationsPerInvoke = 8)]
    public string Clean()
    {
        string last = "";
        foreach (var input in _clean)
        {
            last = _engine.Evaluate(input).Channel;
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = 8)]
    public string Mixed()
    {
        string last = "";
        foreach (var input in _mixed)
        {
            last = _engine.Evaluate(input).Channel;
        }

        return last;
    }
}
