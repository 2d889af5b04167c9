namespace Ingest.IntegrationTests.Doors;

/// <summary>A collector with every door configured.</summary>
public sealed class DoorsHost : CollectorHost
{
    public const string CallRailKey = "072e77e426f92738a72fe23c4d1953b4";
    public const string TwilioToken = "twilio-test-token";
    public const string GoogleKey = "google-test-key";
    public const string MetaSecret = "meta-app-secret";
    public const string MetaVerifyToken = "meta-verify";

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Webhooks:CallRail:SigningKeys:0"] = "an-older-key",
        ["Webhooks:CallRail:SigningKeys:1"] = CallRailKey,
        ["Webhooks:Twilio:AuthToken"] = TwilioToken,
        ["Webhooks:GoogleAds:Key"] = GoogleKey,
        ["Webhooks:Meta:AppSecret"] = MetaSecret,
        ["Webhooks:Meta:VerifyToken"] = MetaVerifyToken,
        ["Forms:contact:RedirectUrl"] = "https://www.acme.com/thank-you",
        ["Forms:contact:AllowedOrigins:0"] = "https://www.acme.com",
        ["Forms:open:RedirectUrl"] = "https://www.acme.com/thanks",
    };

    public static string Sample(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Samples", name));
}
