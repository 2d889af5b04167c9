using System.Text.Json;
using Ingest.Core.Identity;
using Ingest.Collector.Touches;
using Ingest.Core.Touches;

namespace Ingest.Collector.Webhooks.CallRail;

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
            IdentitiesNormalized = true,
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
