using System.Text.Json;
using Ingest.Collector.Touches;
using Ingest.Core.Identity;
using Ingest.Core.Touches;

namespace Ingest.Collector.Webhooks.GoogleAds;

/// <summary>Google Ads lead form JSON → an <c>ad</c> touch with email and phone from <c>user_column_data</c>.</summary>
internal static class GoogleAdsMapping
{
    private static readonly string[] Facts = ["form_id", "campaign_id", "adgroup_id", "creative_id", "asset_group_id", "lead_stage", "api_version"];

    public static (TouchPayload Payload, TouchContext? Context) Map(JsonElement root, IdentityNormalizer normalizer, DateTimeOffset receivedAt)
    {
        var leadId = JsonText.Get(root, "lead_id");
        string? email = null, phone = null;
        var answers = new Dictionary<string, string>();
        if (root.TryGetProperty("user_column_data", out var columns) && columns.ValueKind == JsonValueKind.Array)
        {
            foreach (var column in columns.EnumerateArray())
            {
                var id = JsonText.Get(column, "column_id") ?? JsonText.Get(column, "column_name") ?? "";
                var value = JsonText.Get(column, "string_value");
                if (value is null)
                {
                    continue;
                }

                switch (id.ToUpperInvariant())
                {
                    // An answer that is not a usable address or number stays an answer, never costs the lead.
                    case "EMAIL" or "WORK_EMAIL" when email is null && IdentityNormalizer.NormalizeEmail(value) is { } valid:
                        email = valid;
                        break;
                    case "PHONE_NUMBER" or "WORK_PHONE" when phone is null && normalizer.NormalizePhone(value) is { } e164:
                        phone = e164;
                        break;
                    default:
                        answers[id.ToLowerInvariant()] = value;
                        break;
                }
            }
        }

        var campaign = JsonText.Get(root, "campaign_id");
        var payload = new TouchPayload
        {
            Kind = "ad",
            OccurredAt = JsonText.Get(root, "lead_submit_time"),
            Email = email,
            Phone = phone,
            ExternalId = email is null && phone is null && leadId is not null ? "google_ads_lead:" + leadId : null,
            // The platform itself tells us where the lead came from.
            UtmSource = "google",
            UtmMedium = "cpc",
            UtmCampaign = campaign,
            UtmId = campaign,
            Properties = PropertyBag.From(answers),
        };
        payload.AddClickId("gclid", JsonText.Get(root, "gcl_id"));
        if (leadId is null)
        {
            return (payload, null);
        }

        var facts = new Dictionary<string, string> { ["provider"] = "google_ads", ["lead_id"] = leadId };
        foreach (var name in Facts)
        {
            if (JsonText.Get(root, name) is { } value)
            {
                facts[name] = value;
            }
        }

        var isTest = root.TryGetProperty("is_test", out var test) && test.ValueKind == JsonValueKind.True;
        return (payload, new TouchContext
        {
            Door = "google_ads",
            ReceivedAt = receivedAt,
            DefaultKind = TouchKind.Ad,
            IdentitiesNormalized = true,
            DerivedEventId = "google_ads:" + leadId,
            Provider = facts,
            IsTest = isTest,
        });
    }
}
