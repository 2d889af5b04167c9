namespace Ingest.Core.Governance;

/// <summary>The b2b taxonomy: about a dozen channels a revenue team invests in, decided in the order documented in docs/governance.md.</summary>
internal static class B2bChannelRules
{
    /// <summary>The b2b channel of a governed touch.</summary>
    public static string Classify(GovernanceRules r, GovernanceResult g, ClickIdRule? click, string? referrerClass, bool hasUtm, bool isOffline)
    {
        var c = r.Channels;
        var source = g.Source;
        var medium = g.Medium;
        var paidMedium = medium is not null && (c.PaidMediums.Contains(medium) || Ga4ChannelRules.IsPaidMedium(medium) || (g.Raw.Medium is { } rm && Ga4ChannelRules.IsPaidMedium(rm)));
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
}
