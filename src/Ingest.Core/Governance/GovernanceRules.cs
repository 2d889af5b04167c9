using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Ingest.Core.Governance;

/// <summary>A rules file that cannot be used; the message names the line and key at fault.</summary>
public sealed class GovernanceRulesException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A click-id parameter, its ad network, the channel it implies and whether it proves a paid click.</summary>
public sealed class ClickIdRule
{
    public string Param { get; set; } = "";
    public string Network { get; set; } = "";
    public string Channel { get; set; } = "";
    public bool Paid { get; set; }
}

/// <summary>What an event code (an offline touch's event: a trade show, a conference) means: its b2b channel and campaign.</summary>
public sealed class EventCodeRule
{
    public string Channel { get; set; } = "";
    public string? Campaign { get; set; }
}

/// <summary>The rules file as written (YAML or JSON, snake_case keys). See docs/governance.md.</summary>
public sealed class GovernanceRulesDocument
{
    public string Version { get; set; } = "";
    public int MaxValueLength { get; set; } = 200;
    public Dictionary<string, List<string>> SourceAliases { get; set; } = [];
    public Dictionary<string, List<string>> MediumAliases { get; set; } = [];

    /// <summary>Answers to "how did you hear about us?" that mean one source (the self-reported report's columns).</summary>
    public Dictionary<string, List<string>> SelfReportedAliases { get; set; } = [];

    public List<string> ApprovedMediums { get; set; } = [];
    public string? CampaignPattern { get; set; }
    public List<string> RequiredParameters { get; set; } = [];
    public List<ClickIdRule> ClickIds { get; set; } = [];
    public Dictionary<string, List<string>> Referrers { get; set; } = [];
    public ChannelInputs Channels { get; set; } = new();

    /// <summary>Substrings of self-declared bots' and crawlers' user agents; the browser door drops their touches.</summary>
    public List<string> BotUserAgents { get; set; } = [];

    /// <summary>Event codes of offline touches (badge scans, trade-show lists) → channel and campaign.</summary>
    public Dictionary<string, EventCodeRule> EventCodes { get; set; } = [];
}

/// <summary>Inputs of the b2b channel rules (<c>channels:</c> in the rules file).</summary>
public sealed class ChannelInputs
{
    public string Taxonomy { get; set; } = "b2b";
    public List<string> PaidMediums { get; set; } = [];
    public List<string> DisplayMediums { get; set; } = [];
    public List<string> OrganicMediums { get; set; } = [];
    public List<string> SocialMediums { get; set; } = [];
    public List<string> EmailMediums { get; set; } = [];
    public List<string> EventMediums { get; set; } = [];
    public List<string> PartnerMediums { get; set; } = [];
    public List<string> ReferralMediums { get; set; } = [];
    public List<string> SearchSources { get; set; } = [];
    public List<string> SocialSources { get; set; } = [];
    public List<string> AiSources { get; set; } = [];
    public List<string> EmailSources { get; set; } = [];
}

/// <summary>Referrer classes, in the precedence used when a host matches several.</summary>
public static class ReferrerClasses
{
    public const string AiAssistant = "ai_assistant";
    public const string Email = "email";
    public const string Search = "search";
    public const string Social = "social";
    public const string Internal = "internal";
    public const string External = "external";

    internal static readonly string[] Configurable = [AiAssistant, Email, Search, Social, Internal];
}

/// <summary>Rules compiled for the hot path: frozen, case-insensitive lookups that accept spans.</summary>
public sealed record GovernanceRules
{
    private GovernanceRules() { }

    /// <summary>The file's <c>version</c>, as written.</summary>
    public string Version { get; private init; } = "";

    /// <summary>First 12 hex digits of the SHA-256 of the rules' normalized content under the taxonomy in force (<see cref="RulesDigest"/>).</summary>
    public string Digest { get; private init; } = "";

    /// <summary>The version stamped on every touch these rules govern (<c>rules_version</c>): <c>{version}+{digest}</c>.</summary>
    public string VersionStamp { get; private init; } = "";

    private JsonObject NormalizedDocument { get; init; } = null!;

    public int MaxValueLength { get; private init; }
    public string Taxonomy { get; private init; } = null!;
    internal FrozenDictionary<string, string> SourceAliases { get; private init; } = null!;
    internal FrozenDictionary<string, string> MediumAliases { get; private init; } = null!;
    internal FrozenDictionary<string, string> SelfReportedAliases { get; private init; } = null!;
    internal FrozenSet<string> ApprovedMediums { get; private init; } = null!;
    internal Regex? CampaignPattern { get; private init; }
    internal string[] RequiredParameters { get; private init; } = null!;
    internal ClickIdRule[] ClickIds { get; private init; } = null!;
    internal FrozenDictionary<string, string> ReferrerDomains { get; private init; } = null!;
    internal FrozenDictionary<string, string> ReferrerWildcards { get; private init; } = null!;
    internal ChannelSets Channels { get; private init; } = null!;
    internal Ga4SourceCategories Ga4Sources { get; private init; } = null!;
    internal string[] BotUserAgents { get; private init; } = null!;
    internal FrozenDictionary<string, EventCodeRule> EventCodes { get; private init; } = null!;

    /// <summary>The <c>event_codes</c> entry of <paramref name="code"/> (trimmed, case-insensitive), or null when the rules do not know it.</summary>
    public EventCodeRule? EventCode(string? code) =>
        string.IsNullOrWhiteSpace(code) ? null : EventCodes.GetValueOrDefault(code.Trim());

    /// <summary>
    /// A self-reported source as the reports count it: trimmed and lower-cased, then mapped by <c>self_reported_aliases</c>,
    /// else by <c>source_aliases</c> (an answer "fb" is facebook); null when blank.
    /// </summary>
    public string? NormalizeSelfReported(string? answer)
    {
        var text = answer?.Trim().ToLowerInvariant();
        return string.IsNullOrEmpty(text) ? null
            : SelfReportedAliases.TryGetValue(text, out var alias) ? alias
            : SourceAliases.TryGetValue(text, out var source) ? source
            : text;
    }

    /// <summary>True when the user agent declares itself a bot or crawler (<c>bot_user_agents</c>, matched case-insensitively as substrings).</summary>
    public bool IsBot(string? userAgent)
    {
        if (string.IsNullOrEmpty(userAgent))
        {
            return false;
        }

        foreach (var marker in BotUserAgents)
        {
            if (userAgent.Contains(marker, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The rules that ship with Ingest (deploy/governance/default.yaml, embedded).</summary>
    public static GovernanceRules Default { get; } = LoadDefault();

    /// <summary>Parses and compiles a rules file; throws <see cref="GovernanceRulesException"/> naming the line and key.</summary>
    public static GovernanceRules Parse(string text, string sourceName = "rules")
    {
        GovernanceRulesDocument document;
        try
        {
            var deserializer = new DeserializerBuilder()
                .WithNamingConvention(UnderscoredNamingConvention.Instance)
                .Build();
            document = deserializer.Deserialize<GovernanceRulesDocument>(text) ?? throw new GovernanceRulesException($"{sourceName}: the file is empty.");
        }
        catch (YamlException ex)
        {
            var inner = ex.InnerException?.Message is { } detail ? ": " + detail : "";
            throw new GovernanceRulesException($"{sourceName} line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}{inner}", ex);
        }

        return Compile(document, sourceName, ChildKeyLines(text, "event_codes"));
    }

    /// <summary>Validates and compiles a parsed document; <paramref name="eventCodeLines"/> gives each event code's line for errors.</summary>
    public static GovernanceRules Compile(GovernanceRulesDocument d, string sourceName = "rules", IReadOnlyDictionary<string, int>? eventCodeLines = null)
    {
        void Require(bool ok, string key, string message)
        {
            if (!ok)
            {
                throw new GovernanceRulesException($"{sourceName}: {key}: {message}");
            }
        }

        Require(!string.IsNullOrWhiteSpace(d.Version), "version", "is required (any string that identifies this revision of the rules).");
        Require(d.MaxValueLength is >= 16 and <= 4096, "max_value_length", "must be between 16 and 4096.");
        var taxonomy = d.Channels.Taxonomy.Trim().ToLowerInvariant();
        Require(taxonomy is "b2b" or "ga4", "channels.taxonomy", "must be b2b or ga4.");

        Regex? pattern = null;
        if (!string.IsNullOrWhiteSpace(d.CampaignPattern))
        {
            try
            {
                pattern = new Regex(d.CampaignPattern, RegexOptions.CultureInvariant | RegexOptions.Compiled | RegexOptions.NonBacktracking, TimeSpan.FromMilliseconds(50));
            }
            catch (ArgumentException ex)
            {
                throw new GovernanceRulesException($"{sourceName}: campaign_pattern: not a valid regular expression: {ex.Message}", ex);
            }
        }

        string[] knownParameters = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id"];
        foreach (var p in d.RequiredParameters)
        {
            Require(knownParameters.Contains(p), "required_parameters", $"'{p}' is not one of {string.Join(", ", knownParameters)}.");
        }

        for (var i = 0; i < d.ClickIds.Count; i++)
        {
            var c = d.ClickIds[i];
            Require(!string.IsNullOrWhiteSpace(c.Param), $"click_ids[{i}].param", "is required.");
            Require(!string.IsNullOrWhiteSpace(c.Network), $"click_ids[{i}].network", "is required.");
            Require(c.Channel is "paid_search" or "paid_social" or "display", $"click_ids[{i}].channel", "must be paid_search, paid_social or display.");
        }

        foreach (var key in d.Referrers.Keys)
        {
            Require(ReferrerClasses.Configurable.Contains(key), $"referrers.{key}", $"unknown class; use {string.Join(", ", ReferrerClasses.Configurable)}.");
        }

        var referrerDomains = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var referrerWildcards = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var cls in ReferrerClasses.Configurable)
        {
            foreach (var domain in d.Referrers.GetValueOrDefault(cls) ?? [])
            {
                var entry = domain.Trim().ToLowerInvariant();
                Require(entry.Length > 0 && !entry.Contains('/'), $"referrers.{cls}", $"'{domain}' must be a host name such as example.com or name.*.");
                if (entry.EndsWith(".*", StringComparison.Ordinal))
                {
                    referrerWildcards.TryAdd(entry[..^2], cls);
                }
                else
                {
                    referrerDomains.TryAdd(entry, cls);
                }
            }
        }

        var eventCodes = new Dictionary<string, EventCodeRule>(StringComparer.OrdinalIgnoreCase);
        foreach (var (code, rule) in d.EventCodes ?? [])
        {
            var at = eventCodeLines?.GetValueOrDefault(code) is > 0 and var line ? $" line {line}" : "";
            void RequireCode(bool ok, string key, string message)
            {
                if (!ok)
                {
                    throw new GovernanceRulesException($"{sourceName}{at}: event_codes.{code}{key}: {message}");
                }
            }

            var trimmed = code.Trim();
            RequireCode(trimmed.Length is > 0 and <= 64 && !trimmed.AsSpan().ContainsAnyInRange('\0', ' '), "", "an event code is 1-64 characters without spaces.");
            RequireCode(rule is not null, "", "needs a channel (and optionally a campaign): {channel: events, campaign: saastr_2026}.");
            var channel = rule!.Channel?.Trim().ToLowerInvariant() ?? "";
            RequireCode(Governance.Channels.B2b.All.Contains(channel), ".channel", $"'{rule.Channel}' is not a channel; use one of {string.Join(", ", Governance.Channels.B2b.All)}.");
            var campaign = string.IsNullOrWhiteSpace(rule.Campaign) ? null : rule.Campaign.Trim().ToLowerInvariant();
            RequireCode(campaign is null || campaign.Length <= d.MaxValueLength, ".campaign", $"is longer than max_value_length ({d.MaxValueLength}).");
            RequireCode(eventCodes.TryAdd(trimmed, new EventCodeRule { Channel = channel, Campaign = campaign }), "", "is listed twice (event codes are case-insensitive).");
        }

        var ga4 = Ga4SourceCategories.Default;
        var normalized = RulesDigest.Normalize(d);
        var digest = RulesDigest.Of(normalized, taxonomy, ga4.Sha256);
        return new GovernanceRules
        {
            Version = d.Version,
            Digest = digest,
            VersionStamp = d.Version + "+" + digest,
            NormalizedDocument = normalized,
            MaxValueLength = d.MaxValueLength,
            Taxonomy = taxonomy,
            SourceAliases = Aliases(d.SourceAliases, "source_aliases"),
            MediumAliases = Aliases(d.MediumAliases, "medium_aliases"),
            SelfReportedAliases = Aliases(d.SelfReportedAliases, "self_reported_aliases"),
            ApprovedMediums = Set(d.ApprovedMediums),
            CampaignPattern = pattern,
            RequiredParameters = [.. d.RequiredParameters],
            ClickIds = [.. d.ClickIds],
            ReferrerDomains = referrerDomains.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            ReferrerWildcards = referrerWildcards.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            Channels = new ChannelSets
            {
                PaidMediums = Set(d.Channels.PaidMediums),
                DisplayMediums = Set(d.Channels.DisplayMediums),
                OrganicMediums = Set(d.Channels.OrganicMediums),
                SocialMediums = Set(d.Channels.SocialMediums),
                EmailMediums = Set(d.Channels.EmailMediums),
                EventMediums = Set(d.Channels.EventMediums),
                PartnerMediums = Set(d.Channels.PartnerMediums),
                ReferralMediums = Set(d.Channels.ReferralMediums),
                SearchSources = Set(d.Channels.SearchSources.Concat(ga4.Search)),
                SocialSources = Set(d.Channels.SocialSources.Concat(ga4.Social)),
                AiSources = Set(d.Channels.AiSources.Concat(d.Referrers.GetValueOrDefault(ReferrerClasses.AiAssistant) ?? [])),
                EmailSources = Set(d.Channels.EmailSources),
            },
            Ga4Sources = ga4,
            BotUserAgents = [.. d.BotUserAgents.Select(static b => b.Trim()).Where(static b => b.Length > 0)],
            EventCodes = eventCodes.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
        };

        FrozenDictionary<string, string> Aliases(Dictionary<string, List<string>> aliases, string key)
        {
            var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (canonical, spellings) in aliases)
            {
                var target = string.Intern(canonical.Trim().ToLowerInvariant());
                foreach (var spelling in spellings)
                {
                    var normalized = spelling.Trim().ToLowerInvariant();
                    Require(!map.TryGetValue(normalized, out var existing) || existing == target, $"{key}.{canonical}",
                        $"'{spelling}' is already an alias of '{existing}'.");
                    map[normalized] = target;
                }
            }

            return map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        }
    }

    // The line of each key of a top-level mapping (event codes, for errors that must name the line), read from the text again.
    private static Dictionary<string, int> ChildKeyLines(string text, string key)
    {
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        if (stream.Documents is [{ RootNode: YamlMappingNode root }, ..]
            && root.Children.TryGetValue(new YamlScalarNode(key), out var child) && child is YamlMappingNode mapping)
        {
            foreach (var entry in mapping.Children.Keys.OfType<YamlScalarNode>())
            {
                lines.TryAdd(entry.Value ?? "", (int)entry.Start.Line);
            }
        }

        return lines;
    }

    private static FrozenSet<string> Set(IEnumerable<string> values) =>
        values.Select(static v => v.Trim().ToLowerInvariant()).Where(static v => v.Length > 0).ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private static GovernanceRules LoadDefault()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Ingest.Core.Governance.default.yaml")
            ?? throw new InvalidOperationException("The built-in governance rules are missing from the assembly.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), "default.yaml");
    }

    /// <summary>The same rules with another taxonomy filling <see cref="GovernanceResult.Channel"/>.</summary>
    public GovernanceRules WithTaxonomy(string taxonomy)
    {
        var t = taxonomy.Trim().ToLowerInvariant();
        if (t is not ("b2b" or "ga4"))
        {
            throw new GovernanceRulesException($"Governance:Taxonomy: '{taxonomy}' must be b2b or ga4.");
        }

        if (t == Taxonomy)
        {
            return this;
        }

        var digest = RulesDigest.Of(NormalizedDocument, t, Ga4Sources.Sha256);
        return this with { Taxonomy = t, Digest = digest, VersionStamp = Version + "+" + digest };
    }
}

/// <summary>The b2b rules' medium and source sets.</summary>
internal sealed class ChannelSets
{
    public FrozenSet<string> PaidMediums { get; init; } = null!;
    public FrozenSet<string> DisplayMediums { get; init; } = null!;
    public FrozenSet<string> OrganicMediums { get; init; } = null!;
    public FrozenSet<string> SocialMediums { get; init; } = null!;
    public FrozenSet<string> EmailMediums { get; init; } = null!;
    public FrozenSet<string> EventMediums { get; init; } = null!;
    public FrozenSet<string> PartnerMediums { get; init; } = null!;
    public FrozenSet<string> ReferralMediums { get; init; } = null!;
    public FrozenSet<string> SearchSources { get; init; } = null!;
    public FrozenSet<string> SocialSources { get; init; } = null!;
    public FrozenSet<string> AiSources { get; init; } = null!;
    public FrozenSet<string> EmailSources { get; init; } = null!;
}

/// <summary>GA4's source categories (search, social, video, shopping), from Governance/Data/ga4-sources.csv.</summary>
internal sealed class Ga4SourceCategories
{
    public FrozenSet<string> Search { get; init; } = null!;
    public FrozenSet<string> Social { get; init; } = null!;
    public FrozenSet<string> Video { get; init; } = null!;
    public FrozenSet<string> Shopping { get; init; } = null!;

    /// <summary>SHA-256 of the list file: part of every rules digest, since the GA4 channels are read against it.</summary>
    public byte[] Sha256 { get; init; } = null!;

    public static Ga4SourceCategories Default { get; } = Load();

    private static Ga4SourceCategories Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Ingest.Core.Governance.Data.ga4-sources.csv")
            ?? throw new InvalidOperationException("ga4-sources.csv is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        copy.Position = 0;
        using var reader = new StreamReader(copy);
        var byCategory = new Dictionary<string, List<string>>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#' || line.StartsWith("category,", StringComparison.Ordinal))
            {
                continue;
            }

            var comma = line.IndexOf(',');
            var category = line[..comma];
            if (!byCategory.TryGetValue(category, out var list))
            {
                byCategory[category] = list = [];
            }

            list.Add(line[(comma + 1)..]);
        }

        FrozenSet<string> Of(string category) => (byCategory.GetValueOrDefault(category) ?? []).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        return new Ga4SourceCategories
        {
            Search = Of("search"), Social = Of("social"), Video = Of("video"), Shopping = Of("shopping"), Sha256 = SHA256.HashData(copy.ToArray()),
        };
    }
}
