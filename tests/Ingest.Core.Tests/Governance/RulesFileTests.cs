using Ingest.Core.Governance;

namespace Ingest.Core.Tests.Governance;

public sealed class RulesFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-rules-").FullName;

    private static string DefaultYaml()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ingest.sln")))
        {
            dir = dir.Parent;
        }

        return File.ReadAllText(Path.Combine(dir!.FullName, "deploy", "governance", "default.yaml"));
    }

    [Fact]
    public void DefaultRules_ShippedFile_LoadsAndMatchesTheBuiltInRules()
    {
        var parsed = GovernanceRules.Parse(DefaultYaml(), "default.yaml");
        Assert.Equal(GovernanceRules.Default.Version, parsed.Version);
        Assert.Equal("b2b", parsed.Taxonomy);
    }

    [Theory]
    [InlineData("version: '1'\nunknown_key: 3\n", "unknown_key")]
    [InlineData("version: '1'\ncampaign_pattern: '([a-z'\n", "campaign_pattern")]
    [InlineData("version: '1'\nrequired_parameters: [utm_colour]\n", "required_parameters")]
    [InlineData("version: '1'\nreferrers:\n  gossip: [a.com]\n", "referrers.gossip")]
    [InlineData("version: '1'\nclick_ids:\n  - { param: gclid, network: g, channel: telepathy }\n", "click_ids[0].channel")]
    [InlineData("version: '1'\nmedium_aliases:\n  a: [x]\n  b: [x]\n", "medium_aliases.b")]
    [InlineData("max_value_length: 100\n", "version")]
    [InlineData("version: '1'\nchannels:\n  taxonomy: ga5\n", "channels.taxonomy")]
    [InlineData("version: '1'\nsource_aliases: [not, a, map]\n", "line 2")]
    public void InvalidRules_AreRejectedWithAMessageNamingTheKeyOrLine(string yaml, string named)
    {
        var ex = Assert.Throws<GovernanceRulesException>(() => GovernanceRules.Parse(yaml, "rules.yaml"));
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Provider_FileChanges_ReloadsWithoutRestart_AndKeepsPreviousRulesWhenTheNewFileIsBroken()
    {
        var path = Path.Combine(_dir, "rules.yaml");
        File.WriteAllText(path, DefaultYaml());
        using var provider = new GovernanceRulesProvider(path);
        var engine = new GovernanceEngine(() => provider.Current);
        Assert.Equal("facebook", engine.Evaluate(new GovernanceInput { UtmSource = "fb" }).Source);

        var reloaded = new ManualResetEventSlim();
        string? lastError = "not yet";
        provider.Reloaded += error =>
        {
            lastError = error;
            reloaded.Set();
        };

        File.WriteAllText(path, DefaultYaml().Replace("version: \"2026-11-23\"", "version: \"v2\"").Replace("facebook: [fb,", "meta: [fb,"));
        Assert.True(reloaded.Wait(TimeSpan.FromSeconds(10)), "the file change was not picked up");
        Assert.Null(lastError);
        Assert.Equal("v2", provider.Current.Version);
        Assert.Equal("meta", engine.Evaluate(new GovernanceInput { UtmSource = "fb" }).Source);

        reloaded.Reset();
        File.WriteAllText(path, "version: 'v3'\ncampaign_pattern: '(['\n");
        Assert.True(reloaded.Wait(TimeSpan.FromSeconds(10)), "the broken file was not noticed");
        Assert.Contains("campaign_pattern", lastError, StringComparison.Ordinal);
        Assert.Equal("v2", provider.Current.Version);
        Assert.Equal("meta", engine.Evaluate(new GovernanceInput { UtmSource = "fb" }).Source);
    }

    [Fact]
    public void Provider_BrokenFileAtStartUp_FailsFast()
    {
        var path = Path.Combine(_dir, "broken.yaml");
        File.WriteAllText(path, "version: '1'\nmax_value_length: 1\n");
        var ex = Assert.Throws<GovernanceRulesException>(() => new GovernanceRulesProvider(path));
        Assert.Contains("max_value_length", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EventCodes_UnknownChannel_FailsTheLoadNamingTheLineAndKey()
    {
        const string Yaml = "version: '1'\nevent_codes:\n  SAASTR26: { channel: events, campaign: saastr_2026 }\n  MEETUP: { channel: eventz }\n";
        var ex = Assert.Throws<GovernanceRulesException>(() => GovernanceRules.Parse(Yaml, "rules.yaml"));
        Assert.Contains("rules.yaml line 4: event_codes.MEETUP.channel: 'eventz' is not a channel", ex.Message, StringComparison.Ordinal);

        // An empty event_codes key is no event codes, not a failure.
        Assert.Null(GovernanceRules.Parse("version: '1'\nevent_codes:\n", "rules.yaml").EventCode("SAASTR26"));
    }

    [Fact]
    public void EventCodes_KnownCode_SetsChannelAndCampaign_CaseInsensitively_AndGa4StaysAsClassified()
    {
        var engine = new GovernanceEngine(GovernanceRules.Parse(DefaultYaml(), "default.yaml"));
        var scan = engine.Evaluate(new GovernanceInput { IsOffline = true, EventCode = " saastr26 " });
        Assert.Equal(("events", "saastr_2026", "Direct"), (scan.Channel, scan.Campaign, scan.Ga4Channel));

        // An unknown code changes nothing: an offline touch without digital signals is offline.
        var unknown = engine.Evaluate(new GovernanceInput { IsOffline = true, EventCode = "NOPE" });
        Assert.Equal(("offline", null), (unknown.Channel, unknown.Campaign));
    }

    [Fact]
    public void Digest_SameRulesWrittenOtherwise_IsTheSame_AndChangesWithARuleOrTheTaxonomy()
    {
        var rules = GovernanceRules.Parse("version: 'a'\nsource_aliases:\n  google: [g]\n  bing: [b]\napproved_mediums: [cpc]\n");
        var rewritten = GovernanceRules.Parse("# the same rules\napproved_mediums: [ cpc ]\nsource_aliases: { bing: [b], google: [g] }\nversion: a\n");
        var changed = GovernanceRules.Parse("version: 'a'\nsource_aliases:\n  google: [g, gg]\n  bing: [b]\napproved_mediums: [cpc]\n");

        Assert.Matches("^[0-9a-f]{12}$", rules.Digest);
        Assert.Equal(rules.Digest, rewritten.Digest);
        Assert.NotEqual(rules.Digest, changed.Digest);
        Assert.NotEqual(rules.Digest, rules.WithTaxonomy("ga4").Digest);
        Assert.Equal(rules.Digest, rules.WithTaxonomy("ga4").WithTaxonomy("b2b").Digest);
        Assert.Equal("a+" + rules.Digest, rules.VersionStamp);
        Assert.Equal(GovernanceRules.Default.VersionStamp, new GovernanceEngine(GovernanceRules.Default).Evaluate(new GovernanceInput { UtmSource = "fb" }).RulesVersion);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
