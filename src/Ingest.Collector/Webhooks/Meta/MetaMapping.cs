using System.Globalization;
using System.Text.Json;
using Ingest.Core.Touches;

namespace Ingest.Collector.Webhooks.Meta;

/// <summary>Meta leadgen notifications → one <c>ad</c> touch per leadgen change, awaiting enrichment through the Graph API.</summary>
internal static class MetaMapping
{
    private static readonly long MinUnixSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    public static List<(TouchPayload Payload, TouchContext Context)> Map(JsonElement root, DateTimeOffset receivedAt)
    {
        var leads = new List<(TouchPayload, TouchContext)>();
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("entry", out var entries) || entries.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("The notification has no entry array.");
        }

        foreach (var entry in entries.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("changes", out var changes) || changes.ValueKind != JsonValueKind.Array)
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
                // A time outside what DateTimeOffset holds is not a time: the touch keeps its received time.
                if (long.TryParse(JsonText.Get(value, "created_time"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var unix)
                    && unix >= MinUnixSeconds && unix <= MaxUnixSeconds)
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
