using System.Globalization;
using System.Text.Json;
using Ingest.Core.Identity;
using Ingest.Collector.Touches;
using Ingest.Core.Touches;

namespace Ingest.Collector.Webhooks;

/// <summary>CallRail call and form payloads → a <c>call</c> or <c>form</c> touch.</summary>
internal static class CallRailMapping
{
    private static readonly string[] Facts =
        ["resource_id", "company_resource_id", "person_resource_id", "tracker_resource_id", "tracking_phone_number", "business_phone_number", "duration",
         "call_type", "direction", "answered", "first_call", "source_name", "customer_city", "customer_state", "customer_country", "lead_status"];

    /// <summary>CallRail triggers that carry a call or a form (text-message triggers are not touches).</summary>
    public static readonly string[] Triggers =
        ["pre_call", "call_routing_complete", "post_call", "call_modified", "outbound_post_call", "outbound_call_modified", "form_submission"];

    public static (TouchPayload, TouchContext?) Map(JsonElement root, string? trigger, IdentityNormalizer normalizer, DateTimeOffset receivedAt)
    {
        string? Get(string name) => JsonText.Get(root, name);
        var isForm = root.TryGetProperty("form_data", out var formData) || (Get("resource_id")?.StartsWith("FRM", StringComparison.Ordinal) ?? false);
        var resourceId = Get("resource_id") ?? Get("id");
        trigger ??= Infer(root, isForm);

        var payload = new TouchPayload
        {
            Kind = isForm ? "form" : "call",
            OccurredAt = Get("start_time") ?? Get("submitted_at") ?? Get("created_at"),
            Phone = normalizer.NormalizePhone(isForm ? FormField(formData, "phone", "phone_number", "telephone", "tel") : Get("customer_phone_number") ?? Get("callernum")),
            Email = IdentityNormalizer.NormalizeEmail(isForm ? FormField(formData, "email", "email_address", "your-email") : null),
            PageUrl = Url(Get("landing_page_url") ?? Get("landingpage") ?? Get("form_url") ?? Get("url")),
            Referrer = Url(Get("referring_url") ?? Get("referrer_url")),
            UtmSource = Get("utm_source") ?? Get("source"),
            UtmMedium = Get("utm_medium") ?? Get("medium"),
            UtmCampaign = Get("utm_campaign") ?? Get("campaign"),
            UtmTerm = Get("utm_term") ?? Get("keywords"),
            UtmContent = Get("utm_content"),
        };
        foreach (var name in (ReadOnlySpan<string>)["gclid", "fbclid", "msclkid"])
        {
            payload.AddClickId(name, Get(name));
        }

        if (resourceId is null)
        {
            return (payload, null);
        }

        if (payload.Phone is null && payload.Email is null)
        {
            // A withheld caller still made a touch: keep it, keyed by CallRail's person (or the call).
            payload.ExternalId = "callrail:" + (Get("person_resource_id") ?? resourceId);
        }

        if (isForm && formData.ValueKind == JsonValueKind.Object)
        {
            payload.Properties = PropertyBag.From(formData.EnumerateObject()
                .Where(static f => JsonText.Text(f.Value) is not null)
                .Select(static f => new KeyValuePair<string, string>(f.Name, JsonText.Text(f.Value)!)));
        }

        var facts = new Dictionary<string, string> { ["provider"] = "callrail", ["event"] = trigger };
        foreach (var name in Facts)
        {
            if (Get(name) is { } value)
            {
                facts[name] = value;
            }
        }

        return (payload, new TouchContext
        {
            Door = "callrail",
            ReceivedAt = receivedAt,
            DefaultKind = isForm ? TouchKind.Form : TouchKind.Call,
            DerivedEventId = $"callrail:{resourceId}:{trigger}",
            Provider = facts,
        });
    }

    /// <summary>
    /// Without <c>?event=</c>: forms are form submissions; a <c>changes</c> array marks call-modified; a missed call of
    /// zero seconds with no recording is the pre-call notice; anything else is the post-call (outbound when directed so).
    /// </summary>
    private static string Infer(JsonElement root, bool isForm)
    {
        if (isForm)
        {
            return "form_submission";
        }

        var outbound = JsonText.Get(root, "direction") == "outbound";
        if (root.TryGetProperty("changes", out _))
        {
            return outbound ? "outbound_call_modified" : "call_modified";
        }

        var unanswered = JsonText.Get(root, "answered") is null or "false" && JsonText.Get(root, "duration") is null or "0"
            && JsonText.Get(root, "recording") is null;
        return outbound ? "outbound_post_call" : unanswered && JsonText.Get(root, "call_type") == "missed" ? "pre_call" : "post_call";
    }


    // CallRail sends labels such as "Radio Ad" in some referrer fields: only URLs are referrers.
    private static string? Url(string? value) =>
        value is not null && (value.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) ? value : null;

    private static string? FormField(JsonElement formData, params string[] names)
    {
        if (formData.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var property in formData.EnumerateObject())
        {
            if (names.Any(n => property.Name.Equals(n, StringComparison.OrdinalIgnoreCase)))
            {
                return JsonText.Text(property.Value);
            }
        }

        return null;
    }
}

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
            DerivedEventId = "google_ads:" + leadId,
            Provider = facts,
            IsTest = isTest,
        });
    }
}

/// <summary>Meta leadgen notifications → one <c>ad</c> touch per leadgen change, awaiting enrichment through the Graph API.</summary>
internal static class MetaMapping
{
    public static List<(TouchPayload Payload, TouchContext Context)> Map(JsonElement root, DateTimeOffset receivedAt)
    {
        var leads = new List<(TouchPayload, TouchContext)>();
        if (!root.TryGetProperty("entry", out var entries) || entries.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("The notification has no entry array.");
        }

        foreach (var entry in entries.EnumerateArray())
        {
            if (!entry.TryGetProperty("changes", out var changes) || changes.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var change in changes.EnumerateArray())
            {
                if (JsonText.Get(change, "field") != "leadgen" || !change.TryGetProperty("value", out var value) || JsonText.Get(value, "leadgen_id") is not { } leadgenId)
                {
                    continue;
                }

                var facts = new Dictionary<string, string> { ["provider"] = "meta", ["leadgen_id"] = leadgenId };
                foreach (var name in new[] { "page_id", "form_id", "ad_id", "adgroup_id", "created_time" })
                {
                    if (JsonText.Get(value, name) is { } fact)
                    {
                        facts[name] = fact;
                    }
                }

                string? occurredAt = null;
                if (long.TryParse(JsonText.Get(value, "created_time"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var unix))
                {
                    occurredAt = DateTimeOffset.FromUnixTimeSeconds(unix).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                }

                var payload = new TouchPayload
                {
                    Kind = "ad",
                    OccurredAt = occurredAt,
                    ExternalId = "meta_lead:" + leadgenId,
                    UtmSource = "facebook",
                    UtmMedium = "paid_social",
                    UtmCampaign = facts.TryGetValue("form_id", out var form) ? "meta_form_" + form : null,
                };
                leads.Add((payload, new TouchContext
                {
                    Door = "meta",
                    ReceivedAt = receivedAt,
                    DefaultKind = TouchKind.Ad,
                    DerivedEventId = "meta:" + leadgenId,
                    Provider = facts,
                    AwaitingEnrichment = true,
                }));
            }
        }

        return leads;
    }
}
