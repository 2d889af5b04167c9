using Ingest.Core.Governance;

namespace Ingest.Core.Tests.Governance;

public sealed class NormalizationTests
{
    private static readonly GovernanceEngine Engine = new(GovernanceRules.Default);

    private static GovernanceResult Url(string pageUrl, string? referrer = null) =>
        Engine.Evaluate(new GovernanceInput { PageUrl = pageUrl, Referrer = referrer });

    private static IEnumerable<string> Codes(GovernanceResult r) => r.Violations.Select(v => v.Code);

    [Theory]
    [InlineData("fb", "facebook")]
    [InlineData("facebook.com", "facebook")]
    [InlineData("m.facebook.com", "facebook")]
    [InlineData("IG", "instagram")]
    [InlineData("lnkd.in", "linkedin")]
    [InlineData("t.co", "twitter")]
    [InlineData("Google.com", "google")]
    [InlineData("chat.openai.com", "chatgpt")]
    public void SourceAlias_KnownSpelling_NormalizedToCanonicalWithViolation(string raw, string canonical)
    {
        var result = Engine.Evaluate(new GovernanceInput { UtmSource = raw, UtmMedium = "email", UtmCampaign = "nov" });
        Assert.Equal(canonical, result.Source);
        Assert.Equal(raw, result.Raw.Source);
        Assert.Contains(ViolationCodes.SourceAlias, Codes(result));
    }

    [Theory]
    [InlineData("cpc", "paid_search")]
    [InlineData("PPC", "paid_search")]
    [InlineData("Paid Search", "paid_search")]
    [InlineData("ads", "paid_search")]
    [InlineData("paid social", "paid_social")]
    [InlineData("banner", "display")]
    [InlineData("e-mail", "email")]
    [InlineData("social-media", "organic_social")]
    [InlineData("affiliates", "affiliate")]
    [InlineData("webinar", "events")]
    public void MediumAlias_KnownSpelling_NormalizedToCanonical(string raw, string canonical)
    {
        var result = Engine.Evaluate(new GovernanceInput { UtmSource = "google", UtmMedium = raw, UtmCampaign = "nov" });
        Assert.Equal(canonical, result.Medium);
        Assert.Contains(ViolationCodes.MediumAlias, Codes(result));
        Assert.DoesNotContain(ViolationCodes.UnapprovedMedium, Codes(result));
    }

    [Theory]
    [InlineData("Émail")]
    [InlineData("ÉMAIL")]
    [InlineData("émaiL")]
    public void UpperCase_NonAsciiLetters_LowercasedLikeAsciiOnes(string raw)
    {
        var result = Engine.Evaluate(new GovernanceInput { UtmSource = "newsletter", UtmMedium = "email", UtmCampaign = raw });
        Assert.Equal("émail", result.Campaign);
        Assert.Contains(ViolationCodes.MixedCase, Codes(result));
    }

    [Fact]
    public void CleanTouch_ApprovedValues_HasNoViolationsAndKeepsValuesAsGiven()
    {
        var input = new GovernanceInput { UtmSource = "google", UtmMedium = "paid_search", UtmCampaign = "brand_q4" };
        var result = Engine.Evaluate(input);
        Assert.Empty(result.Violations);
        Assert.Same(input.UtmSource, result.Source);
        Assert.Same(input.UtmCampaign, result.Campaign);
    }

    [Fact]
    public void MixedCase_Values_LowercasedWithViolation_ClickIdKeptVerbatim()
    {
        var result = Url("https://acme.com/?utm_source=LinkedIn&utm_medium=Paid_Social&utm_campaign=ABM_Q4&li_fat_id=AbC-XyZ_09");
        Assert.Equal("linkedin", result.Source);
        Assert.Equal("paid_social", result.Medium);
        Assert.Equal("abm_q4", result.Campaign);
        Assert.Equal("AbC-XyZ_09", result.ClickId);
        Assert.Equal("linkedin_ads", result.ClickNetwork);
        Assert.Equal("li_fat_id", result.ClickIdParam);
        Assert.Contains(ViolationCodes.MixedCase, Codes(result));
    }

    [Fact]
    public void QueryParameters_NamesCaseInsensitive_FirstOccurrenceWins_ExplicitFieldsWin()
    {
        var result = Engine.Evaluate(new GovernanceInput
        {
            PageUrl = "https://acme.com/?UTM_SOURCE=bing&utm_source=google&Utm_Medium=cpc&utm_campaign=spring%20sale",
            UtmCampaign = "explicit",
        });
        Assert.Equal("bing", result.Source);
        Assert.Equal("paid_search", result.Medium);
        Assert.Equal("explicit", result.Campaign);
    }

    [Fact]
    public void QueryValue_PercentAndPlusEncoded_IsDecoded()
    {
        var result = Url("https://acme.com/?utm_source=news+letter&utm_medium=email&utm_campaign=black%5Ffriday");
        Assert.Equal("newsletter", result.Source);
        Assert.Equal("black_friday", result.Campaign);
    }

    [Theory]
    [InlineData("https://acme.com/?fbclid=F1&gclid=G1", "G1", "google_ads")]
    [InlineData("https://acme.com/?msclkid=M1&gclid=G1", "G1", "google_ads")]
    [InlineData("https://acme.com/?ttclid=T1&msclkid=M1", "M1", "microsoft_ads")]
    [InlineData("https://acme.com/?fbclid=F1&twclid=X1", "X1", "x_ads")]
    [InlineData("https://acme.com/?fbclid=F1", "F1", "meta")]
    [InlineData("https://acme.com/?epik=P1&rdt_cid=R1", "P1", "pinterest_ads")]
    [InlineData("https://acme.com/?sccid=S1", "S1", "snapchat_ads")]
    public void ClickIds_SeveralPresent_PrecedenceOrderPicksTheWinner(string url, string clickId, string network)
    {
        var result = Url(url);
        Assert.Equal(clickId, result.ClickId);
        Assert.Equal(network, result.ClickNetwork);
    }

    [Fact]
    public void ExplicitClickId_WinsOverQueryAndIsVerbatim()
    {
        var result = Engine.Evaluate(new GovernanceInput
        {
            PageUrl = "https://acme.com/?gclid=FromQuery",
            ClickIds = [new("gclid", "Explicit-CaseSensitive")],
        });
        Assert.Equal("Explicit-CaseSensitive", result.ClickId);
    }

    [Fact]
    public void MissingRequiredParameters_AndBadCampaign_AreFlaggedButTouchIsClassified()
    {
        var result = Url("https://acme.com/?utm_source=google&utm_medium=cpc&utm_campaign=Brand%20Campaign!");
        Assert.Contains(ViolationCodes.CampaignPattern, Codes(result));
        Assert.Equal("paid_search", result.Channel);

        var missing = Url("https://acme.com/?utm_source=google");
        Assert.Equal(2, missing.Violations.Count(v => v.Code == ViolationCodes.MissingParameter));
        Assert.Contains(missing.Violations, v => v.Field == "utm_medium");
        Assert.Contains(missing.Violations, v => v.Field == "utm_campaign");
    }

    [Fact]
    public void UnapprovedMedium_IsFlagged()
    {
        var result = Url("https://acme.com/?utm_source=x&utm_medium=carrier_pigeon&utm_campaign=q4");
        var violation = Assert.Single(result.Violations, v => v.Code == ViolationCodes.UnapprovedMedium);
        Assert.Equal("utm_medium", violation.Field);
        Assert.Equal("other", result.Channel);
    }

    [Fact]
    public void HostileValues_ControlCharactersRemoved_LongValuesTruncated_WithViolations()
    {
        var result = Engine.Evaluate(new GovernanceInput
        {
            UtmSource = "goo\u0000gle\u0007",
            UtmMedium = "cpc",
            UtmCampaign = new string('a', 5_000),
            UtmContent = "  spaced\r\n",
        });
        Assert.Equal("google", result.Source);
        Assert.Equal(GovernanceRules.Default.MaxValueLength, result.Campaign!.Length);
        Assert.Equal("spaced", result.Content);
        Assert.Contains(ViolationCodes.ControlCharacters, Codes(result));
        Assert.Contains(ViolationCodes.ValueTruncated, Codes(result));
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("javascript:alert(1)")]
    [InlineData("https://")]
    [InlineData("https://exa mple.com/")]
    [InlineData("ftp://example.com/")]
    [InlineData("https://example.com:notaport/")]
    public void MalformedPageUrl_NoCrash_ViolationAndDirect(string url)
    {
        var result = Url(url);
        Assert.Contains(result.Violations, v => v.Code == ViolationCodes.MalformedUrl && v.Field == "page_url");
        Assert.Equal("direct", result.Channel);
    }

    [Fact]
    public void MalformedReferrer_IsIgnoredForClassificationWithViolation()
    {
        var result = Url("https://acme.com/", "%%%");
        Assert.Contains(result.Violations, v => v.Code == ViolationCodes.MalformedUrl && v.Field == "referrer");
        Assert.Equal("direct", result.Channel);
    }

    [Fact]
    public void HugeUrl_WithThousandsOfParameters_IsHandled()
    {
        var url = "https://acme.com/?" + string.Join('&', Enumerable.Range(0, 5_000).Select(i => $"p{i}=v{i}")) + "&utm_source=google&utm_medium=cpc&utm_campaign=x";
        var result = Url(url);
        Assert.Equal("google", result.Source);
    }

    [Fact]
    public void Referrer_HostClassAndLandingPage_AreReported()
    {
        var result = Url("https://www.acme.com/pricing?utm_source=x#top", "https://WWW.Bing.com/search?q=acme");
        Assert.Equal("search", result.ReferrerClass);
        Assert.Equal("www.bing.com", result.ReferrerHost);
        Assert.Equal("https://www.acme.com/pricing", result.LandingPage);
    }

    [Theory]
    [InlineData("https://chatgpt.com/", "ai_assistant")]
    [InlineData("https://claude.ai/chat/1", "ai_assistant")]
    [InlineData("https://copilot.microsoft.com/", "ai_assistant")]
    [InlineData("https://outlook.live.com/mail/", "email")]
    [InlineData("https://www.facebook.com/", "social")]
    [InlineData("https://www.yandex.ru/", "search")]
    [InlineData("https://example.org/", "external")]
    [InlineData("https://acme.com/other", "internal")]
    public void ReferrerClass_ByHost(string referrer, string expected) =>
        Assert.Equal(expected, Url("https://acme.com/", referrer).ReferrerClass);
}
