using System.Buffers;
using System.Collections.Frozen;

namespace Ingest.Core.Governance;

/// <summary>
/// Normalizes UTM values against the governance rules, infers click network and referrer class, and classifies the
/// touch in the configured taxonomy and in GA4's default channel group. Pure and allocation-light: for clean input the
/// result object is the only allocation.
/// </summary>
public sealed class GovernanceEngine(Func<GovernanceRules> rules) : IGovernanceEvaluator
{
    private static readonly SearchValues<char> NeedsWork = SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000a\u000b\u000c\u000d\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\u007f");

    /// <summary>An engine over fixed rules.</summary>
    public GovernanceEngine(GovernanceRules fixedRules) : this(() => fixedRules) { }

    public GovernanceResult Evaluate(GovernanceInput input)
    {
        var r = rules();
        List<GovernanceViolation>? violations = null;
        void Violate(string code, string message, string? field) => (violations ??= []).Add(new GovernanceViolation(code, message, field));

        // Inputs: explicit fields win; else the page URL's query (first occurrence, name case-insensitive).
        var pageUrl = input.PageUrl;
        var raw = new RawUtm
        {
            Source = input.UtmSource ?? FromQuery(pageUrl, "utm_source"),
            Medium = input.UtmMedium ?? FromQuery(pageUrl, "utm_medium"),
            Campaign = input.UtmCampaign ?? FromQuery(pageUrl, "utm_campaign"),
            Term = input.UtmTerm ?? FromQuery(pageUrl, "utm_term"),
            Content = input.UtmContent ?? FromQuery(pageUrl, "utm_content"),
            Id = input.UtmId ?? FromQuery(pageUrl, "utm_id"),
        };

        var result = new GovernanceResult { Raw = raw, RulesVersion = r.Version };

        // Page and referrer hosts.
        Range pageHost = default, referrerHost = default;
        var hasPageHost = pageUrl is not null && UrlParts.TryGetHost(pageUrl, out pageHost);
        if (!string.IsNullOrWhiteSpace(pageUrl) && !hasPageHost)
        {
            Violate(ViolationCodes.MalformedUrl, "page_url is not an absolute http(s) URL; UTMs could not be read from it.", "page_url");
        }

        var referrer = input.Referrer;
        var hasReferrerHost = !string.IsNullOrWhiteSpace(referrer) && UrlParts.TryGetHost(referrer, out referrerHost);
        if (!string.IsNullOrWhiteSpace(referrer) && !hasReferrerHost)
        {
            Violate(ViolationCodes.MalformedUrl, "referrer is not an absolute http(s) URL; it was not used for classification.", "referrer");
        }

        result.SetUrls(hasPageHost ? pageUrl : null, hasReferrerHost ? referrer : null, referrerHost);

        // Normalized values.
        result.Source = Normalize(raw.Source, "utm_source", r, ref violations, r.SourceAliases, ViolationCodes.SourceAlias);
        result.Medium = Normalize(raw.Medium, "utm_medium", r, ref violations, r.MediumAliases, ViolationCodes.MediumAlias);
        result.Campaign = Normalize(raw.Campaign, "utm_campaign", r, ref violations, null, null);
        result.Term = Normalize(raw.Term, "utm_term", r, ref violations, null, null);
        result.Content = Normalize(raw.Content, "utm_content", r, ref violations, null, null);
        result.UtmId = Clean(raw.Id, "utm_id", r.MaxValueLength, ref violations, lowercase: false);

        var hasUtm = raw.Source is not null || raw.Medium is not null || raw.Campaign is not null || raw.Term is not null || raw.Content is not null || raw.Id is not null;
        if (hasUtm)
        {
            foreach (var required in r.RequiredParameters)
            {
                if (ValueOf(raw, required) is null)
                {
                    Violate(ViolationCodes.MissingParameter, $"{required} is required whenever UTM parameters are used.", required);
                }
            }

            if (result.Medium is { } medium && !r.ApprovedMediums.Contains(medium))
            {
                Violate(ViolationCodes.UnapprovedMedium, $"utm_medium '{Truncate(medium)}' is not an approved medium.", "utm_medium");
            }

            if (result.Campaign is { } campaign && r.CampaignPattern is { } pattern && !pattern.IsMatch(campaign))
            {
                Violate(ViolationCodes.CampaignPattern, $"utm_campaign '{Truncate(campaign)}' does not match the naming pattern {pattern}.", "utm_campaign");
            }
        }

        // Click id: the first parameter in precedence order that carries a value.
        ClickIdRule? click = null;
        foreach (var rule in r.ClickIds)
        {
            var value = ClickValue(input.ClickIds, rule.Param) ?? FromQuery(pageUrl, rule.Param);
            if (!string.IsNullOrWhiteSpace(value))
            {
                click = rule;
                // Click ids are case-sensitive: verbatim, capped in length.
                result.ClickId = value.Length > 512 ? value[..512] : value;
                result.ClickIdParam = rule.Param;
                result.ClickNetwork = rule.Network;
                break;
            }
        }

        // Referrer class.
        string? referrerClass = null;
        if (hasReferrerHost)
        {
            var host = referrer.AsSpan()[referrerHost];
            referrerClass = hasPageHost && UrlParts.WithoutWww(host).Equals(UrlParts.WithoutWww(pageUrl.AsSpan()[pageHost]), StringComparison.OrdinalIgnoreCase)
                ? ReferrerClasses.Internal
                : ClassifyHost(r, host) ?? ReferrerClasses.External;
        }

        result.ReferrerClass = referrerClass;
        result.Ga4Channel = Ga4(r, raw, click, referrer, referrerHost, referrerClass);
        result.Channel = r.Taxonomy == "ga4" ? result.Ga4Channel : B2b(r, result, click, referrerClass, hasUtm, input.IsOffline);
        if (violations is not null)
        {
            result.Violations = violations;
        }

        return result;
    }

    private static string B2b(GovernanceRules r, GovernanceResult g, ClickIdRule? click, string? referrerClass, bool hasUtm, bool isOffline)
    {
        var c = r.Channels;
        var source = g.Source;
        var medium = g.Medium;
        var paidMedium = medium is not null && (c.PaidMediums.Contains(medium) || IsGa4Paid(medium) || (g.Raw.Medium is { } rm && IsGa4Paid(rm)));
        var paidClick = click is { Paid: true };
        var paid = paidMedium || paidClick;
        var searchSource = source is not null && c.SearchSources.Contains(source);
        var socialSource = source is not null && c.SocialSources.Contains(source);

        // A medium aliased to paid_search (cpc, ppc…) on a social source is paid social, not search.
        if ((paidMedium && searchSource) || (medium == Channels.B2b.PaidSearch && !socialSource) || (paidClick && click!.Channel == Channels.B2b.PaidSearch))
        {
            return Channels.B2b.PaidSearch;
        }

        if ((paidMedium && socialSource) || medium == Channels.B2b.PaidSocial || (paidClick && click!.Channel == Channels.B2b.PaidSocial))
        {
            return Channels.B2b.PaidSocial;
        }

        if (medium is not null && c.DisplayMediums.Contains(medium) && !searchSource && !socialSource)
        {
            return Channels.B2b.Display;
        }

        if (referrerClass == ReferrerClasses.AiAssistant || (source is not null && c.AiSources.Contains(source)))
        {
            return Channels.B2b.AiSearch;
        }

        if ((referrerClass == ReferrerClasses.Search && !paid && !hasUtm) || (medium is not null && c.OrganicMediums.Contains(medium)))
        {
            return Channels.B2b.OrganicSearch;
        }

        // fbclid alone is not proof of a paid click: it is added to organic Facebook links too.
        var socialSignal = referrerClass == ReferrerClasses.Social || (medium is not null && c.SocialMediums.Contains(medium))
            || (socialSource && medium is null) || click is { Paid: false, Channel: Channels.B2b.PaidSocial };
        if (socialSignal && !paid)
        {
            return Channels.B2b.OrganicSocial;
        }

        if ((medium is not null && c.EmailMediums.Contains(medium)) || (source is not null && c.EmailSources.Contains(source)) || referrerClass == ReferrerClasses.Email)
        {
            return Channels.B2b.Email;
        }

        if (medium is not null && c.EventMediums.Contains(medium))
        {
            return Channels.B2b.Events;
        }

        if (medium is not null && c.PartnerMediums.Contains(medium))
        {
            return Channels.B2b.Partner;
        }

        var externalReferrer = referrerClass is not null && referrerClass != ReferrerClasses.Internal;
        if ((externalReferrer && !hasUtm) || (medium is not null && c.ReferralMediums.Contains(medium)))
        {
            return Channels.B2b.Referral;
        }

        if (!hasUtm && click is null && !externalReferrer)
        {
            return isOffline ? Channels.B2b.Offline : Channels.B2b.Direct;
        }

        return Channels.B2b.Other;
    }

    /// <summary>GA4's default channel group for manually tagged traffic, rules in published order, case-insensitive.</summary>
    private static string Ga4(GovernanceRules r, RawUtm raw, ClickIdRule? click, string? referrer, Range referrerHost, string? referrerClass)
    {
        ReadOnlySpan<char> source, medium;
        var campaign = (raw.Campaign ?? "").AsSpan().Trim();
        if (raw.Source is not null || raw.Medium is not null)
        {
            source = (raw.Source ?? "(not set)").AsSpan().Trim();
            medium = (raw.Medium ?? "(not set)").AsSpan().Trim();
        }
        else if (click is { Param: "gclid" or "gbraid" or "wbraid" or "dclid" })
        {
            // Auto-tagged Google Ads traffic reports as google / cpc.
            source = "google";
            medium = "cpc";
        }
        else if (referrer is not null && referrerClass is not null and not ReferrerClasses.Internal)
        {
            var host = referrer.AsSpan()[referrerHost];
            if (referrerClass == ReferrerClasses.Search)
            {
                source = SearchEngineName(host);
                medium = "organic";
            }
            else
            {
                source = host;
                medium = "referral";
            }
        }
        else
        {
            source = "(direct)";
            medium = "(none)";
        }

        var ga4 = r.Ga4Sources;
        var search = Lookup(ga4.Search, source);
        var social = Lookup(ga4.Social, source);
        var video = Lookup(ga4.Video, source);
        var shopping = Lookup(ga4.Shopping, source);
        var paid = IsGa4Paid(medium);
        var shopCampaign = IsShoppingCampaign(campaign);

        if (source.Equals("(direct)", StringComparison.OrdinalIgnoreCase) && (medium.Equals("(not set)", StringComparison.OrdinalIgnoreCase) || medium.Equals("(none)", StringComparison.OrdinalIgnoreCase)))
        {
            return Channels.Ga4.Direct;
        }

        if (campaign.Contains("cross-network", StringComparison.OrdinalIgnoreCase))
        {
            return Channels.Ga4.CrossNetwork;
        }

        if ((shopping || shopCampaign) && paid)
        {
            return Channels.Ga4.PaidShopping;
        }

        if (search && paid)
        {
            return Channels.Ga4.PaidSearch;
        }

        if (social && paid)
        {
            return Channels.Ga4.PaidSocial;
        }

        if (video && paid)
        {
            return Channels.Ga4.PaidVideo;
        }

        if (Is(medium, "display", "banner", "expandable", "interstitial", "cpm"))
        {
            return Channels.Ga4.Display;
        }

        if (paid)
        {
            return Channels.Ga4.PaidOther;
        }

        if (shopping || shopCampaign)
        {
            return Channels.Ga4.OrganicShopping;
        }

        if (social || Is(medium, "social", "social-network", "social-media", "sm", "social network", "social media"))
        {
            return Channels.Ga4.OrganicSocial;
        }

        if (video || medium.Contains("video", StringComparison.OrdinalIgnoreCase))
        {
            return Channels.Ga4.OrganicVideo;
        }

        if (search || medium.Equals("organic", StringComparison.OrdinalIgnoreCase))
        {
            return Channels.Ga4.OrganicSearch;
        }

        if (Is(medium, "referral", "app", "link"))
        {
            return Channels.Ga4.Referral;
        }

        if (Is(source, "email", "e-mail", "e_mail", "e mail") || Is(medium, "email", "e-mail", "e_mail", "e mail"))
        {
            return Channels.Ga4.Email;
        }

        if (medium.Equals("affiliate", StringComparison.OrdinalIgnoreCase))
        {
            return Channels.Ga4.Affiliates;
        }

        if (medium.Equals("audio", StringComparison.OrdinalIgnoreCase))
        {
            return Channels.Ga4.Audio;
        }

        if (source.Equals("sms", StringComparison.OrdinalIgnoreCase) || medium.Equals("sms", StringComparison.OrdinalIgnoreCase))
        {
            return Channels.Ga4.Sms;
        }

        if (medium.EndsWith("push", StringComparison.OrdinalIgnoreCase) || medium.Contains("mobile", StringComparison.OrdinalIgnoreCase)
            || medium.Contains("notification", StringComparison.OrdinalIgnoreCase) || source.Equals("firebase", StringComparison.OrdinalIgnoreCase))
        {
            return Channels.Ga4.MobilePush;
        }

        return Channels.Ga4.Unassigned;
    }

    /// <summary>GA4's paid-medium regex <c>^(.*cp.*|ppc|retargeting|paid.*)$</c>.</summary>
    internal static bool IsGa4Paid(ReadOnlySpan<char> medium) =>
        medium.Contains("cp", StringComparison.OrdinalIgnoreCase)
        || medium.Equals("ppc", StringComparison.OrdinalIgnoreCase)
        || medium.Equals("retargeting", StringComparison.OrdinalIgnoreCase)
        || medium.StartsWith("paid", StringComparison.OrdinalIgnoreCase);

    /// <summary>GA4's shopping-campaign regex <c>^(.*(([^a-df-z]|^)shop|shopping).*)$</c>.</summary>
    internal static bool IsShoppingCampaign(ReadOnlySpan<char> campaign)
    {
        if (campaign.Contains("shopping", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        for (var i = campaign.IndexOf("shop", StringComparison.OrdinalIgnoreCase); i >= 0;)
        {
            if (i == 0)
            {
                return true;
            }

            var before = char.ToLowerInvariant(campaign[i - 1]);
            if (!(before is >= 'a' and <= 'z') || before == 'e')
            {
                return true;
            }

            var next = campaign[(i + 1)..].IndexOf("shop", StringComparison.OrdinalIgnoreCase);
            i = next < 0 ? -1 : i + 1 + next;
        }

        return false;
    }

    private static bool Is(ReadOnlySpan<char> value, params ReadOnlySpan<string> options)
    {
        foreach (var option in options)
        {
            if (value.Equals(option, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Lookup(FrozenSet<string> set, ReadOnlySpan<char> value) =>
        set.GetAlternateLookup<ReadOnlySpan<char>>().Contains(value);

    private static ReadOnlySpan<char> SearchEngineName(ReadOnlySpan<char> host)
    {
        // www.google.co.uk → google; duckduckgo.com → duckduckgo; search.yahoo.com → yahoo
        var labels = UrlParts.WithoutWww(host);
        var dot = labels.IndexOf('.');
        if (labels.StartsWith("search.", StringComparison.OrdinalIgnoreCase) || labels.StartsWith("m.", StringComparison.OrdinalIgnoreCase))
        {
            labels = labels[(dot + 1)..];
            dot = labels.IndexOf('.');
        }

        return dot < 0 ? labels : labels[..dot];
    }

    /// <summary>Longest configured domain suffix wins (gemini.google.com is an AI assistant, not search); then <c>name.*</c> patterns.</summary>
    private static string? ClassifyHost(GovernanceRules r, ReadOnlySpan<char> host)
    {
        var domains = r.ReferrerDomains.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var suffix = host; !suffix.IsEmpty;)
        {
            if (domains.TryGetValue(suffix, out var cls))
            {
                return cls;
            }

            var dot = suffix.IndexOf('.');
            suffix = dot < 0 ? [] : suffix[(dot + 1)..];
        }

        var wildcards = r.ReferrerWildcards.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var rest = host; ;)
        {
            var dot = rest.IndexOf('.');
            if (dot < 0)
            {
                return null;
            }

            if (wildcards.TryGetValue(rest[..dot], out var cls))
            {
                return cls;
            }

            rest = rest[(dot + 1)..];
        }
    }

    private static string? ClickValue(IReadOnlyList<KeyValuePair<string, string>>? clickIds, string param)
    {
        if (clickIds is null)
        {
            return null;
        }

        for (var i = 0; i < clickIds.Count; i++)
        {
            if (clickIds[i].Key.Equals(param, StringComparison.OrdinalIgnoreCase))
            {
                return clickIds[i].Value;
            }
        }

        return null;
    }

    private static string? FromQuery(string? pageUrl, string name) =>
        pageUrl is null || !pageUrl.Contains('?') ? null : UrlParts.QueryValue(pageUrl, name) is { Length: > 0 } v ? v : null;

    private static string? ValueOf(RawUtm raw, string parameter) => parameter switch
    {
        "utm_source" => raw.Source,
        "utm_medium" => raw.Medium,
        "utm_campaign" => raw.Campaign,
        "utm_term" => raw.Term,
        "utm_content" => raw.Content,
        "utm_id" => raw.Id,
        _ => null,
    };

    private static string? Normalize(string? raw, string field, GovernanceRules r, ref List<GovernanceViolation>? violations,
        FrozenDictionary<string, string>? aliases, string? aliasCode)
    {
        var value = Clean(raw, field, r.MaxValueLength, ref violations, lowercase: true);
        if (value is null || aliases is null)
        {
            return value;
        }

        if (aliases.TryGetValue(value, out var canonical))
        {
            (violations ??= []).Add(new GovernanceViolation(aliasCode!, $"{field} '{Truncate(value)}' is an alias; use '{canonical}'.", field));
            return canonical;
        }

        return value;
    }

    /// <summary>Trims, removes control characters, lowercases and truncates; returns the input itself when it is already clean.</summary>
    private static string? Clean(string? raw, string field, int maxLength, ref List<GovernanceViolation>? violations, bool lowercase)
    {
        if (raw is null)
        {
            return null;
        }

        var span = raw.AsSpan();
        var trimmed = span.Trim();
        if (trimmed.IsEmpty)
        {
            return null;
        }

        var needsWork = lowercase ? trimmed.ContainsAny(NeedsWork) : trimmed.ContainsAnyInRange('\0', '\u001f');
        if (!needsWork && trimmed.Length == span.Length && trimmed.Length <= maxLength)
        {
            return raw;
        }

        Span<char> buffer = trimmed.Length <= 512 ? stackalloc char[trimmed.Length] : new char[trimmed.Length];
        var length = 0;
        var removedControl = false;
        var mixedCase = false;
        foreach (var ch in trimmed)
        {
            if (char.IsControl(ch))
            {
                removedControl = true;
                continue;
            }

            if (lowercase && char.IsUpper(ch))
            {
                mixedCase = true;
                buffer[length++] = char.ToLowerInvariant(ch);
            }
            else
            {
                buffer[length++] = ch;
            }
        }

        var result = buffer[..length].Trim();
        if (removedControl)
        {
            (violations ??= []).Add(new GovernanceViolation(ViolationCodes.ControlCharacters, $"{field} contained control characters; they were removed.", field));
        }

        if (mixedCase)
        {
            (violations ??= []).Add(new GovernanceViolation(ViolationCodes.MixedCase, $"{field} used upper-case letters; values are lower-case.", field));
        }

        if (result.Length > maxLength)
        {
            (violations ??= []).Add(new GovernanceViolation(ViolationCodes.ValueTruncated, $"{field} was longer than {maxLength} characters and was truncated.", field));
            result = result[..maxLength];
        }

        return result.IsEmpty ? null : result.ToString();
    }

    private static string Truncate(string value) => value.Length <= 60 ? value : value[..60] + "…";
}
