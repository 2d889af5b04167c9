namespace Ingest.Core.Governance;

/// <summary>Channel names of the built-in taxonomies.</summary>
public static class Channels
{
    /// <summary>The b2b taxonomy (default): categories a revenue team invests in.</summary>
    public static class B2b
    {
        public const string PaidSearch = "paid_search";
        public const string PaidSocial = "paid_social";
        public const string Display = "display";
        public const string AiSearch = "ai_search";
        public const string OrganicSearch = "organic_search";
        public const string OrganicSocial = "organic_social";
        public const string Email = "email";
        public const string Events = "events";
        public const string Partner = "partner";
        public const string Referral = "referral";
        public const string Offline = "offline";
        public const string Direct = "direct";
        public const string Other = "other";

        /// <summary>Every b2b channel, in the order of its rules.</summary>
        public static IReadOnlyList<string> All { get; } =
            [PaidSearch, PaidSocial, Display, AiSearch, OrganicSearch, OrganicSocial, Email, Events, Partner, Referral, Offline, Direct, Other];
    }

    /// <summary>Google Analytics 4 default channel group, with Google's names.</summary>
    public static class Ga4
    {
        public const string Direct = "Direct";
        public const string CrossNetwork = "Cross-network";
        public const string PaidShopping = "Paid Shopping";
        public const string PaidSearch = "Paid Search";
        public const string PaidSocial = "Paid Social";
        public const string PaidVideo = "Paid Video";
        public const string Display = "Display";
        public const string PaidOther = "Paid Other";
        public const string OrganicShopping = "Organic Shopping";
        public const string OrganicSocial = "Organic Social";
        public const string OrganicVideo = "Organic Video";
        public const string OrganicSearch = "Organic Search";
        public const string Referral = "Referral";
        public const string Email = "Email";
        public const string Affiliates = "Affiliates";
        public const string Audio = "Audio";
        public const string Sms = "SMS";
        public const string MobilePush = "Mobile Push Notifications";
        public const string Unassigned = "Unassigned";
    }
}

/// <summary>Stable violation codes.</summary>
public static class ViolationCodes
{
    public const string MissingParameter = "missing_parameter";
    public const string UnapprovedMedium = "unapproved_medium";
    public const string CampaignPattern = "campaign_pattern";
    public const string SourceAlias = "source_alias";
    public const string MediumAlias = "medium_alias";
    public const string MixedCase = "mixed_case";
    public const string ValueTruncated = "value_truncated";
    public const string ControlCharacters = "control_characters";
    public const string MalformedUrl = "malformed_url";
}
