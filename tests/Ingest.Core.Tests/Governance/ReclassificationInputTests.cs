using System.Text.Json;
using Ingest.Core.Governance;
using Ingest.Core.Identity;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;

namespace Ingest.Core.Tests.Governance;

/// <summary>A stored touch read back for reclassification gives governance exactly the input the collector gave it.</summary>
public sealed class ReclassificationInputTests
{
    private static readonly TouchBuilder Builder = new(new GovernanceEngine(GovernanceRules.Default), new IdentityNormalizer(), new TouchLimits());
    private static readonly TouchContext Api = new() { Door = "api", ReceivedAt = new DateTimeOffset(2026, 11, 23, 10, 15, 0, TimeSpan.Zero) };

    public static TheoryData<string> Payloads() =>
    [
        """{"kind":"form","email":"a@example.com","page_url":"https://acme.com/?utm_source=FB&utm_medium=Paid%20Social&utm_campaign=Spring"}""",
        """{"kind":"form","email":"a@example.com","page_url":"https://acme.com/?utm_source=ignored","utm_source":"Google","utm_medium":"cpc"}""",
        """{"kind":"form","email":"a@example.com","page_url":"https://acme.com/?gclid=Cj0KAbC&utm_source=google"}""",
        """{"kind":"form","email":"a@example.com","gclid":"Cj0K-explicit","msclkid":"m-1","page_url":"https://acme.com/"}""",
        """{"kind":"visit","anonymous_id":"v-1","page_url":"https://acme.com/pricing","referrer":"https://chatgpt.com/"}""",
        """{"kind":"visit","anonymous_id":"v-1","page_url":"https://www.acme.com/a","referrer":"https://acme.com/b"}""",
        """{"kind":"call","phone":"+14155550111"}""",
        """{"kind":"form","email":"a@example.com","page_url":"not a url","referrer":"also not"}""",
        """{"kind":"form","email":"a@example.com","utm_source":"  News\u0007letter ","utm_medium":"email","utm_campaign":"Q4 Launch!","self_reported_source":"a podcast"}""",
    ];

    [Theory]
    [MemberData(nameof(Payloads))]
    public void GovernanceInputOf_StoredRecord_SameRules_GivesTheStoredAttributionAgain(string json)
    {
        var built = Builder.Build(JsonSerializer.Deserialize(json, IngestJsonContext.Default.TouchPayload)!, Api);
        Assert.True(built.IsValid);
        var stored = JsonSerializer.Deserialize(TouchRecordJson.Encode(built.Record!), IngestJsonContext.Default.TouchRecord)!;

        var again = new GovernanceEngine(GovernanceRules.Default).Evaluate(TouchBuilder.GovernanceInputOf(stored));

        Assert.Equal(Json(stored.Attribution), Json(again));
    }

    [Fact]
    public void GovernanceInputOf_StoredRecord_OtherRules_ClassifiesUnderThem()
    {
        var built = Builder.Build(new TouchPayload { Kind = "form", Email = "a@example.com", UtmSource = "Podcast-Weekly", UtmMedium = "audio" }, Api);
        Assert.Equal("other", built.Record!.Attribution.Channel);
        var rules = GovernanceRules.Parse("""
            version: "podcasts"
            source_aliases:
              podcast: [podcast-weekly]
            channels:
              referral_mediums: [audio]
            """);

        var again = new GovernanceEngine(rules).Evaluate(TouchBuilder.GovernanceInputOf(built.Record));

        Assert.Equal("podcast", again.Source);
        Assert.Equal("referral", again.Channel);
        Assert.Equal(rules.VersionStamp, again.RulesVersion);
    }

    private static string Json(GovernanceResult result) => JsonSerializer.Serialize(result, IngestJsonContext.Default.GovernanceResult);
}
