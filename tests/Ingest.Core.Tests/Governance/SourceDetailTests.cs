using System.Text.Json;
using Ingest.Core.Governance;
using Ingest.Core.Identity;
using Ingest.Core.Touches;

namespace Ingest.Core.Tests.Governance;

public sealed class SourceDetailTests
{
    private static readonly GovernanceEngine Engine = new(GovernanceRules.Default);

    private static GovernanceResult Evaluate(string? pageUrl = null, string? referrer = null, bool offline = false, string? trackingNumber = null,
        string? eventCode = null, GovernanceEngine? engine = null) =>
        (engine ?? Engine).Evaluate(new GovernanceInput
        {
            PageUrl = pageUrl,
            Referrer = referrer,
            IsOffline = offline,
            TrackingNumber = trackingNumber,
            EventCode = eventCode,
        });

    // Every b2b channel rule with its drill-down, expected values written by hand: page URL, referrer → channel, source detail.
    [Theory]
    // paid_search: the search engine, from the source, else the click id's network.
    [InlineData("https://acme.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand", null, "paid_search", "google")]
    [InlineData("https://acme.com/?utm_source=AdWords&utm_medium=cpc&utm_campaign=brand", null, "paid_search", "google")]
    [InlineData("https://acme.com/?gclid=Cj0KCQ", null, "paid_search", "google")]
    [InlineData("https://acme.com/?msclkid=abc", null, "paid_search", "bing")]
    [InlineData("https://acme.com/?yclid=abc", null, "paid_search", "yandex")]
    // organic_search: the engine, from the referrer (a configured domain, a name.* pattern, or search.yahoo.com's name).
    [InlineData("https://acme.com/", "https://www.google.co.uk/", "organic_search", "google")]
    [InlineData("https://acme.com/", "https://duckduckgo.com/", "organic_search", "duckduckgo")]
    [InlineData("https://acme.com/", "https://search.yahoo.com/search?p=acme", "organic_search", "yahoo")]
    [InlineData("https://acme.com/", "https://www.bing.com/search?q=acme", "organic_search", "bing")]
    [InlineData("https://acme.com/?utm_source=google&utm_medium=organic&utm_campaign=seo", null, "organic_search", "google")]
    // paid_social: the network, from the source, else the click id.
    [InlineData("https://acme.com/?utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm", null, "paid_social", "linkedin")]
    [InlineData("https://acme.com/?utm_source=fb&utm_medium=ppc&utm_campaign=retarget", null, "paid_social", "facebook")]
    [InlineData("https://acme.com/?li_fat_id=abc", null, "paid_social", "linkedin")]
    [InlineData("https://acme.com/?ttclid=E.C.P", null, "paid_social", "tiktok")]
    [InlineData("https://acme.com/?twclid=abc", null, "paid_social", "twitter")]
    // organic_social: the network, from the referrer (its alias, or its configured domain), else fbclid's network.
    [InlineData("https://acme.com/", "https://www.linkedin.com/feed/", "organic_social", "linkedin")]
    [InlineData("https://acme.com/", "https://t.co/AbC", "organic_social", "twitter")]
    [InlineData("https://acme.com/", "https://business.facebook.com/x", "organic_social", "facebook")]
    [InlineData("https://acme.com/?fbclid=IwAR0abc", "https://l.instagram.com/", "organic_social", "instagram")]
    [InlineData("https://acme.com/?fbclid=IwAR0abc", null, "organic_social", "facebook")]
    [InlineData("https://acme.com/?utm_source=twitter&utm_medium=social&utm_campaign=launch", null, "organic_social", "twitter")]
    // ai_search: the assistant.
    [InlineData("https://acme.com/pricing", "https://chatgpt.com/", "ai_search", "chatgpt")]
    [InlineData("https://acme.com/pricing", "https://gemini.google.com/app", "ai_search", "gemini")]
    [InlineData("https://acme.com/pricing", "https://claude.ai/chat/1", "ai_search", "claude")]
    // referral: the referring domain, without www.
    [InlineData("https://acme.com/", "https://news.ycombinator.com/item", "referral", "news.ycombinator.com")]
    [InlineData("https://acme.com/", "https://www.G2.com/products/acme", "referral", "g2.com")]
    [InlineData("https://acme.com/?utm_source=capterra&utm_medium=referral&utm_campaign=listing", null, "referral", "capterra")]
    // display, email and events: the campaign.
    [InlineData("https://acme.com/?utm_source=nytimes&utm_medium=display&utm_campaign=q4", null, "display", "q4")]
    [InlineData("https://acme.com/?utm_source=newsletter&utm_medium=email&utm_campaign=nov", null, "email", "nov")]
    [InlineData("https://acme.com/", "https://mail.google.com/mail/u/0", "email", "mail.google.com")]
    [InlineData("https://acme.com/?utm_source=saastr&utm_medium=webinar&utm_campaign=saastr_2026", null, "events", "saastr_2026")]
    // partner: the partner.
    [InlineData("https://acme.com/?utm_source=g2&utm_medium=affiliate&utm_campaign=nov", null, "partner", "g2")]
    // direct: none; other: the source.
    [InlineData("https://acme.com/", null, "direct", null)]
    [InlineData("https://acme.com/", "https://acme.com/blog", "direct", null)]
    [InlineData("https://acme.com/?utm_source=billboard&utm_medium=outdoor&utm_campaign=q4", null, "other", "billboard")]
    public void SourceDetail_EveryChannelRule_IsItsDocumentedDrillDown(string? pageUrl, string? referrer, string channel, string? detail)
    {
        var result = Evaluate(pageUrl, referrer);
        Assert.Equal(channel, result.Channel);
        Assert.Equal(detail, result.SourceDetail);
    }

    [Fact]
    public void SourceDetail_CallWithoutDigitalSignal_IsItsTrackingNumber()
    {
        var call = Evaluate(offline: true, trackingNumber: " +14045558514 ");
        Assert.Equal("offline", call.Channel);
        Assert.Equal("+14045558514", call.SourceDetail);
        Assert.Null(Evaluate(offline: true).SourceDetail);
    }

    [Fact]
    public void SourceDetail_CallFromAPaidClick_IsTheEngineBeneathItsChannel_NotTheTrackingNumber()
    {
        var call = Evaluate("https://acme.com/?gclid=G-1", offline: true, trackingNumber: "+14045558514");
        Assert.Equal("paid_search", call.Channel);
        Assert.Equal("google", call.SourceDetail);
    }

    [Fact]
    public void SourceDetail_EventCode_NamesTheEventWhateverTheChannel()
    {
        Assert.Equal("SAASTR26", Evaluate(offline: true, eventCode: "SAASTR26").SourceDetail);
        Assert.Equal("SAASTR26", Evaluate("https://acme.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand", eventCode: " SAASTR26").SourceDetail);
        Assert.Null(Evaluate(offline: true, eventCode: "  ").SourceDetail);
    }

    [Fact]
    public void SourceDetail_UnderTheGa4Taxonomy_IsTheSameAsUnderB2b()
    {
        var ga4 = new GovernanceEngine(GovernanceRules.Default.WithTaxonomy("ga4"));
        var paid = Evaluate("https://acme.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand", engine: ga4);
        Assert.Equal("Paid Search", paid.Channel);
        Assert.Equal("google", paid.SourceDetail);
        Assert.Equal("news.ycombinator.com", Evaluate("https://acme.com/", "https://news.ycombinator.com/item", engine: ga4).SourceDetail);
    }

    // Every door, and the kinds that decide whatever the door: door, kind → method.
    [Theory]
    [InlineData("api", "form", "api")]
    [InlineData("api", "call", "api")]
    [InlineData("api", "ad", "api")]
    [InlineData("api", "visit", "visit")]
    [InlineData("browser", "visit", "visit")]
    [InlineData("browser", "form", "web_form")]
    [InlineData("form", "form", "web_form")]
    [InlineData("callrail", "call", "call_tracking")]
    [InlineData("callrail", "form", "web_form")]
    [InlineData("twilio", "call", "call_tracking")]
    [InlineData("google_ads", "ad", "ad_form")]
    [InlineData("meta", "ad", "ad_form")]
    [InlineData("api", "offline", "import")]
    [InlineData("import", "offline", "import")]
    [InlineData("imports", "form", "import")]
    [InlineData("hubspot", "form", "crm")]
    [InlineData("crm", "call", "crm")]
    [InlineData("somewhere-new", "form", null)]
    public void Method_FollowsFromTheDoorAndKind(string door, string kind, string? method) =>
        Assert.Equal(method, TouchMethods.Of(door, kind));

    private static readonly TouchBuilder Builder = new(Engine, new IdentityNormalizer(), new TouchLimits());
    private static readonly DateTimeOffset ReceivedAt = new(2026, 11, 23, 10, 15, 0, TimeSpan.Zero);

    // CallRail names the number tracking_phone_number; the Twilio door stores Twilio's To as tracking_number.
    [Theory]
    [InlineData("callrail", "tracking_phone_number")]
    [InlineData("twilio", "tracking_number")]
    public void Build_TrackedCall_CarriesItsTrackingNumberAsSourceDetailAndCallTrackingAsMethod(string door, string fact)
    {
        var built = Builder.Build(new TouchPayload { Kind = "call", Phone = "+14155550123" }, new TouchContext
        {
            Door = door,
            ReceivedAt = ReceivedAt,
            Provider = new Dictionary<string, string> { ["provider"] = door, [fact] = "+14045558514" },
        });
        Assert.Equal("call_tracking", built.Record!.Method);
        Assert.Equal("offline", built.Record.Attribution.Channel);
        Assert.Equal("+14045558514", built.Record.Attribution.SourceDetail);
    }

    [Fact]
    public void Build_EventCodeProperty_IsTheSourceDetail_AndAFormPostedToTheApiIsMethodApi()
    {
        var built = Builder.Build(new TouchPayload
        {
            Kind = "form",
            Email = "ada@example.com",
            Properties = JsonDocument.Parse("""{"event_code":"SAASTR26"}""").RootElement,
        }, new TouchContext { Door = "api", ReceivedAt = ReceivedAt });
        Assert.Equal("api", built.Record!.Method);
        Assert.Equal("SAASTR26", built.Record.Attribution.SourceDetail);
    }
}
