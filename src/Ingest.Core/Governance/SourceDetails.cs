namespace Ingest.Core.Governance;

/// <summary>
/// A touch's source detail: the drill-down beneath its b2b channel, read from its governed values (docs/governance.md,
/// "Source detail and method"). An event code names its event whatever the channel; otherwise the channel decides: the
/// search engine for paid and organic search, the network for paid and organic social and the assistant for AI search,
/// the referring domain for referrals, the campaign for display, email and events, the partner for partner; a touch
/// the channel has nothing for (a call with no digital signal) falls back to its tracking number, then to its external
/// referring domain. Direct touches have none.
/// </summary>
internal static class SourceDetails
{
    // Ad networks of the built-in click ids → the source they stand for; other networks go through the source aliases.
    private static readonly Dictionary<string, string> ClickNetworkSources = new(StringComparer.OrdinalIgnoreCase)
    {
        ["google_ads"] = "google",
        ["google_display"] = "google",
        // Microsoft Advertising serves Bing's results.
        ["microsoft_ads"] = "bing",
        ["yandex_direct"] = "yandex",
        ["meta"] = "facebook",
        ["tiktok_ads"] = "tiktok",
        ["linkedin_ads"] = "linkedin",
        ["x_ads"] = "twitter",
        ["snapchat_ads"] = "snapchat",
        ["pinterest_ads"] = "pinterest",
        ["reddit_ads"] = "reddit",
    };

    /// <summary>The source detail of <paramref name="g"/>, classified <paramref name="b2bChannel"/>; null when there is none.</summary>
    public static string? Of(GovernanceRules r, GovernanceResult g, string b2bChannel, string? trackingNumber, string? eventCode)
    {
        if (Verbatim(eventCode, r.MaxValueLength) is { } code)
        {
            return code;
        }

        if (b2bChannel == Channels.B2b.Direct)
        {
            return null;
        }

        var detail = b2bChannel switch
        {
            Channels.B2b.PaidSearch => g.Source ?? ClickSource(r, g.ClickNetwork) ?? ReferrerSite(r, g),
            Channels.B2b.OrganicSearch => g.Source ?? ReferrerSite(r, g),
            Channels.B2b.PaidSocial => g.Source ?? ClickSource(r, g.ClickNetwork) ?? ReferrerSite(r, g),
            // fbclid is added to organic links too: the referrer (l.instagram.com) tells the network better than the id.
            Channels.B2b.OrganicSocial => g.Source ?? ReferrerSite(r, g) ?? ClickSource(r, g.ClickNetwork),
            Channels.B2b.AiSearch => g.Source ?? ReferrerSite(r, g),
            Channels.B2b.Referral => ReferringDomain(g) ?? g.Source,
            Channels.B2b.Display or Channels.B2b.Email or Channels.B2b.Events => g.Campaign ?? g.Source,
            Channels.B2b.Partner => g.Source ?? g.Campaign,
            Channels.B2b.Offline => null,
            _ => g.Source ?? g.Campaign,
        };
        return detail ?? Verbatim(trackingNumber, r.MaxValueLength) ?? ReferringDomain(g);
    }

    /// <summary>The external referrer's host without <c>www.</c> (news.ycombinator.com); null without one.</summary>
    private static string? ReferringDomain(GovernanceResult g) =>
        g.ReferrerClass is null or ReferrerClasses.Internal || g.ReferrerHost is not { } host ? null
        : host.StartsWith("www.", StringComparison.Ordinal) ? host[4..] : host;

    /// <summary>
    /// The site a search, social or AI referrer stands for: the source alias of its host or a parent domain (l.facebook.com,
    /// t.co), else the name of the configured domain it matched (search.yahoo.com → yahoo, gemini.google.com → gemini) or
    /// of its <c>name.*</c> pattern (www.google.co.uk → google).
    /// </summary>
    private static string? ReferrerSite(GovernanceRules r, GovernanceResult g)
    {
        if (g.ReferrerClass is null or ReferrerClasses.Internal or ReferrerClasses.External || g.ReferrerHost is not { } host)
        {
            return null;
        }

        // Longest match first: gemini.google.com is the assistant, not google.com's alias.
        var aliases = r.SourceAliases.GetAlternateLookup<ReadOnlySpan<char>>();
        var domains = r.ReferrerDomains.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var suffix = host.AsSpan(); !suffix.IsEmpty;)
        {
            if (aliases.TryGetValue(suffix, out var canonical))
            {
                return canonical;
            }

            if (domains.ContainsKey(suffix))
            {
                return Canonical(r, SiteName(suffix));
            }

            var dot = suffix.IndexOf('.');
            suffix = dot < 0 ? [] : suffix[(dot + 1)..];
        }

        var wildcards = r.ReferrerWildcards.GetAlternateLookup<ReadOnlySpan<char>>();
        var labels = host.AsSpan();
        foreach (var label in labels.Split('.'))
        {
            if (wildcards.ContainsKey(labels[label]))
            {
                return Canonical(r, labels[label].ToString());
            }
        }

        return null;
    }

    /// <summary>The name of a domain: its first label after a service prefix (search.brave.com → brave, chat.mistral.ai → mistral).</summary>
    private static string SiteName(ReadOnlySpan<char> domain)
    {
        var dot = domain.IndexOf('.');
        if (dot > 0 && domain[..dot] is "www" or "m" or "l" or "lm" or "search" or "chat" && domain[(dot + 1)..].Contains('.'))
        {
            domain = domain[(dot + 1)..];
            dot = domain.IndexOf('.');
        }

        return (dot < 0 ? domain : domain[..dot]).ToString();
    }

    /// <summary>The source an ad network's click id stands for (google_ads → google); null without a click id.</summary>
    private static string? ClickSource(GovernanceRules r, string? network)
    {
        if (network is null)
        {
            return null;
        }

        if (ClickNetworkSources.TryGetValue(network, out var source) || r.SourceAliases.TryGetValue(network, out source))
        {
            return source;
        }

        var stem = network.EndsWith("_ads", StringComparison.OrdinalIgnoreCase) ? network[..^4] : network;
        return Canonical(r, stem.ToLowerInvariant());
    }

    private static string Canonical(GovernanceRules r, string name) => r.SourceAliases.TryGetValue(name, out var canonical) ? canonical : name;

    /// <summary>A provider's or a file's value as given: trimmed, at most <paramref name="max"/> characters; null when blank.</summary>
    private static string? Verbatim(string? value, int max)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var trimmed = value.Trim();
        return trimmed.Length > max ? trimmed[..max] : trimmed;
    }
}
