using System.Collections.Frozen;

namespace Ingest.Core.Governance;

/// <summary>Google's GA4 default channel group (reference/ga4-default-channel-group.md), computed from the raw UTM values.</summary>
internal static class Ga4ChannelRules
{
    /// <summary>GA4's default channel group for manually tagged traffic, rules in published order, case-insensitive.</summary>
    public static string Classify(GovernanceRules r, RawUtm raw, ClickIdRule? click, string? referrer, Range referrerHost, string? referrerClass)
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
        var paid = IsPaidMedium(medium);
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
    public static bool IsPaidMedium(ReadOnlySpan<char> medium) =>
        medium.Contains("cp", StringComparison.OrdinalIgnoreCase)
        || medium.Equals("ppc", StringComparison.OrdinalIgnoreCase)
        || medium.Equals("retargeting", StringComparison.OrdinalIgnoreCase)
        || medium.StartsWith("paid", StringComparison.OrdinalIgnoreCase);

    /// <summary>GA4's shopping-campaign regex <c>^(.*(([^a-df-z]|^)shop|shopping).*)$</c>.</summary>
    public static bool IsShoppingCampaign(ReadOnlySpan<char> campaign)
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
}
