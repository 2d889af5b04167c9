
namespace Ingest.Core.Governance;

/// <summary>
/// Normalizes UTM values against the governance rules, infers click network and referrer class, and classifies the
/// touch in the configured taxonomy and in GA4's default channel group. Pure and allocation-light: for clean input the
/// result object is the only allocation. The channel decisions are <see cref="B2bChannelRules"/> and
/// <see cref="Ga4ChannelRules"/>, value cleaning <see cref="UtmValueCleaner"/>.
/// </summary>
public sealed class GovernanceEngine(Func<GovernanceRules> rules) : IGovernanceEvaluator
{
    /// <summary>Click ids are kept verbatim up to this many characters.</summary>
    public const int MaxClickIdLength = 512;

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

        var result = new GovernanceResult { Raw = raw, RulesVersion = r.VersionStamp };

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
        result.Source = UtmValueCleaner.Normalize(raw.Source, "utm_source", r, ref violations, r.SourceAliases, ViolationCodes.SourceAlias);
        result.Medium = UtmValueCleaner.Normalize(raw.Medium, "utm_medium", r, ref violations, r.MediumAliases, ViolationCodes.MediumAlias);
        result.Campaign = UtmValueCleaner.Normalize(raw.Campaign, "utm_campaign", r, ref violations, null, null);
        result.Term = UtmValueCleaner.Normalize(raw.Term, "utm_term", r, ref violations, null, null);
        result.Content = UtmValueCleaner.Normalize(raw.Content, "utm_content", r, ref violations, null, null);
        result.UtmId = UtmValueCleaner.Clean(raw.Id, "utm_id", r.MaxValueLength, ref violations, lowercase: false);

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
                Violate(ViolationCodes.UnapprovedMedium, $"utm_medium '{UtmValueCleaner.Truncate(medium)}' is not an approved medium.", "utm_medium");
            }

            if (result.Campaign is { } campaign && r.CampaignPattern is { } pattern && !pattern.IsMatch(campaign))
            {
                Violate(ViolationCodes.CampaignPattern, $"utm_campaign '{UtmValueCleaner.Truncate(campaign)}' does not match the naming pattern {pattern}.", "utm_campaign");
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
                result.ClickId = value.Length > MaxClickIdLength ? value[..MaxClickIdLength] : value;
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
        result.Ga4Channel = Ga4ChannelRules.Classify(r, raw, click, referrer, referrerHost, referrerClass);
        // The source detail is read beneath the b2b channel whatever the taxonomy, so switching taxonomy never changes it.
        var b2bChannel = B2bChannelRules.Classify(r, result, click, referrerClass, hasUtm, input.IsOffline);

        // An offline touch's event code is the strongest statement of where it came from: its rules entry sets the
        // campaign and (b2b) the channel; GA4's channel group has no event channel and stays as classified.
        if (r.EventCode(input.EventCode) is { } eventCode)
        {
            result.Campaign = eventCode.Campaign ?? result.Campaign;
            b2bChannel = eventCode.Channel;
        }

        result.Channel = r.Taxonomy == "ga4" ? result.Ga4Channel : b2bChannel;
        result.SetSourceDetailInputs(r, b2bChannel, input.TrackingNumber, input.EventCode);
        if (violations is not null)
        {
            result.Violations = violations;
        }

        return result;
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
}
