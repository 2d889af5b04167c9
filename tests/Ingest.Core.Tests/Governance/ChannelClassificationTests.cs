using Ingest.Core.Governance;

namespace Ingest.Core.Tests.Governance;

public sealed class ChannelClassificationTests
{
    private static readonly GovernanceEngine Engine = new(GovernanceRules.Default);

    private static GovernanceResult Evaluate(string? pageUrl = null, string? referrer = null, string? source = null, string? medium = null,
        string? campaign = null, (string, string)[]? clicks = null, bool offline = false) =>
        Engine.Evaluate(new GovernanceInput
        {
            PageUrl = pageUrl,
            Referrer = referrer,
            UtmSource = source,
            UtmMedium = medium,
            UtmCampaign = campaign,
            ClickIds = clicks?.Select(c => new KeyValuePair<string, string>(c.Item1, c.Item2)).ToList(),
            IsOffline = offline,
        });

    // Every b2b rule, in order: page URL, referrer, explicit source/medium/campaign, click id, offline → channel.
    [Theory]
    [InlineData("https://acme.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand", null, null, null, null, false, "paid_search")]
    [InlineData("https://acme.com/?gclid=Cj0KCQ", null, null, null, null, false, "paid_search")]
    [InlineData("https://acme.com/?msclkid=abc", null, null, null, null, false, "paid_search")]
    [InlineData("https://acme.com/?wbraid=abc", null, null, null, null, false, "paid_search")]
    [InlineData("https://acme.com/?utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm", null, null, null, null, false, "paid_social")]
    [InlineData("https://acme.com/?utm_source=facebook&utm_medium=ppc&utm_campaign=retarget", null, null, null, null, false, "paid_social")]
    [InlineData("https://acme.com/?ttclid=E.C.P", null, null, null, null, false, "paid_social")]
    [InlineData("https://acme.com/?li_fat_id=abc", null, null, null, null, false, "paid_social")]
    [InlineData("https://acme.com/?ScCid=abc", null, null, null, null, false, "paid_social")]
    [InlineData("https://acme.com/?utm_source=nytimes&utm_medium=display&utm_campaign=q4", null, null, null, null, false, "display")]
    [InlineData("https://acme.com/?utm_source=dv360&utm_medium=cpm&utm_campaign=q4", null, null, null, null, false, "display")]
    [InlineData("https://acme.com/pricing", "https://chatgpt.com/", null, null, null, false, "ai_search")]
    [InlineData("https://acme.com/pricing", "https://www.perplexity.ai/search?q=x", null, null, null, false, "ai_search")]
    [InlineData("https://acme.com/pricing", "https://gemini.google.com/app", null, null, null, false, "ai_search")]
    [InlineData("https://acme.com/?utm_source=chatgpt.com", null, null, null, null, false, "ai_search")]
    [InlineData("https://acme.com/", "https://www.google.com/", null, null, null, false, "organic_search")]
    [InlineData("https://acme.com/", "https://www.google.co.uk/", null, null, null, false, "organic_search")]
    [InlineData("https://acme.com/", "https://duckduckgo.com/", null, null, null, false, "organic_search")]
    [InlineData("https://acme.com/?utm_source=google&utm_medium=organic&utm_campaign=seo", null, null, null, null, false, "organic_search")]
    [InlineData("https://acme.com/", "https://www.linkedin.com/feed/", null, null, null, false, "organic_social")]
    [InlineData("https://acme.com/?fbclid=IwAR0abc", null, null, null, null, false, "organic_social")]
    [InlineData("https://acme.com/?utm_source=twitter&utm_medium=social&utm_campaign=launch", null, null, null, null, false, "organic_social")]
    [InlineData("https://acme.com/?utm_source=newsletter&utm_medium=email&utm_campaign=nov", null, null, null, null, false, "email")]
    [InlineData("https://acme.com/", "https://mail.google.com/", null, null, null, false, "email")]
    [InlineData("https://acme.com/?utm_source=saastr&utm_medium=webinar&utm_campaign=nov", null, null, null, null, false, "events")]
    [InlineData("https://acme.com/?utm_source=g2&utm_medium=affiliate&utm_campaign=nov", null, null, null, null, false, "partner")]
    [InlineData("https://acme.com/?utm_source=g2&utm_medium=partner&utm_campaign=nov", null, null, null, null, false, "partner")]
    [InlineData("https://acme.com/", "https://news.ycombinator.com/item?id=1", null, null, null, false, "referral")]
    [InlineData("https://acme.com/", null, null, null, null, false, "direct")]
    [InlineData("https://acme.com/", "https://acme.com/blog", null, null, null, false, "direct")]
    [InlineData("https://www.acme.com/", "https://acme.com/blog", null, null, null, false, "direct")]
    [InlineData(null, null, null, null, null, true, "offline")]
    [InlineData("https://acme.com/?utm_source=billboard&utm_medium=outdoor&utm_campaign=q4", null, null, null, null, false, "other")]
    [InlineData(null, null, "google", "cpc", "brand", true, "paid_search")]
    public void B2b_RuleTable_ClassifiesAsDocumented(string? pageUrl, string? referrer, string? source, string? medium, string? campaign, bool offline, string expected) =>
        Assert.Equal(expected, Evaluate(pageUrl, referrer, source, medium, campaign, offline: offline).Channel);

    // GA4 default channel group, on the values as received, rules in published order.
    [Theory]
    [InlineData(null, null, null, null, "Direct")]
    [InlineData("google", "cpc", "brand cross-network", null, "Cross-network")]
    [InlineData("google", "cpc", "summer_shopping", null, "Paid Shopping")]
    [InlineData("amazon", "paid", "q4", null, "Paid Shopping")]
    [InlineData("google", "cpc", "brand", null, "Paid Search")]
    [InlineData("Bing", "PPC", "brand", null, "Paid Search")]
    [InlineData("facebook", "paid_social", "x", null, "Paid Social")]
    [InlineData("youtube", "cpv", "x", null, "Paid Video")]
    [InlineData("unknown-network", "cpm", "x", null, "Display")]
    [InlineData("google", "cpm", "x", null, "Paid Search")]
    [InlineData("capterra", "cpc", "x", null, "Paid Other")]
    [InlineData("etsy", "referral", "x", null, "Organic Shopping")]
    [InlineData("x", "referral", "eshop", null, "Organic Shopping")]
    [InlineData("x", "referral", "workshop", null, "Referral")]
    [InlineData("facebook", "referral", "x", null, "Organic Social")]
    [InlineData("x", "social media", "x", null, "Organic Social")]
    [InlineData("vimeo", "referral", "x", null, "Organic Video")]
    [InlineData("x", "video_promo", "x", null, "Organic Video")]
    [InlineData("duckduckgo", "referral", "x", null, "Organic Search")]
    [InlineData("x", "organic", "x", null, "Organic Search")]
    [InlineData("x", "link", "x", null, "Referral")]
    [InlineData("newsletter", "e-mail", "x", null, "Email")]
    [InlineData("email", "x", "x", null, "Email")]
    [InlineData("x", "affiliate", "x", null, "Affiliates")]
    [InlineData("x", "audio", "x", null, "Audio")]
    [InlineData("sms", "x", "x", null, "SMS")]
    [InlineData("x", "web_push", "x", null, "Mobile Push Notifications")]
    [InlineData("firebase", "x", "x", null, "Mobile Push Notifications")]
    [InlineData("x", "billboard", "x", null, "Unassigned")]
    [InlineData(null, null, null, "https://www.google.com/", "Organic Search")]
    [InlineData(null, null, null, "https://l.facebook.com/", "Organic Social")]
    [InlineData(null, null, null, "https://chatgpt.com/", "Referral")]
    [InlineData(null, null, null, "https://news.ycombinator.com/", "Referral")]
    public void Ga4_DefaultChannelGroup_MatchesGooglesRules(string? source, string? medium, string? campaign, string? referrer, string expected) =>
        Assert.Equal(expected, Evaluate("https://acme.com/", referrer, source, medium, campaign).Ga4Channel);

    [Fact]
    public void Taxonomy_Ga4Configured_ChannelCarriesGa4Name()
    {
        var engine = new GovernanceEngine(GovernanceRules.Default.WithTaxonomy("ga4"));
        var result = engine.Evaluate(new GovernanceInput { PageUrl = "https://acme.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand" });
        Assert.Equal("Paid Search", result.Channel);
        Assert.Equal("Paid Search", result.Ga4Channel);
    }
}
