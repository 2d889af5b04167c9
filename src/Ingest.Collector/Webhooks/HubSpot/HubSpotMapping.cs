using System.Globalization;
using System.Text.Json;
using Ingest.Core.Outcomes;

namespace Ingest.Collector.Webhooks.HubSpot;

/// <summary>
/// HubSpot webhook events → stage outcomes: <c>contact.propertyChange</c> on <c>lifecyclestage</c>, the contact's
/// <c>objectId</c> as the lead's <c>external_id</c>, the event's <c>occurredAt</c> as its time and
/// <c>hubspot:{portalId}:{eventId}</c> as its event id (HubSpot retries carry the same eventId, so they are stored once).
/// Other events and stage values without a mapping are skipped: custom stages are mapped in configuration, never guessed.
/// </summary>
public static class HubSpotMapping
{
    /// <summary>HubSpot's default lifecycle stages; <c>subscriber</c> and <c>other</c> are outside the funnel.</summary>
    public static IReadOnlyDictionary<string, string> DefaultStages { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["lead"] = Stages.Lead,
        ["marketingqualifiedlead"] = Stages.Mql,
        ["salesqualifiedlead"] = Stages.Sql,
        ["opportunity"] = Stages.Opportunity,
        ["customer"] = Stages.Customer,
        // HubSpot's ladder puts evangelist after customer: an evangelist has been a customer.
        ["evangelist"] = Stages.Customer,
    };

    /// <summary>The outcomes in a webhook body (a JSON array of events), each with its context; throws <see cref="JsonException"/> when it is not an array.</summary>
    public static List<(OutcomePayload Payload, OutcomeContext Context)> Map(JsonElement events, IReadOnlyDictionary<string, string> customStages, DateTimeOffset receivedAt)
    {
        if (events.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("A HubSpot webhook body is a JSON array of events.");
        }

        var outcomes = new List<(OutcomePayload, OutcomeContext)>();
        foreach (var e in events.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Object
                || Text(e, "subscriptionType") != "contact.propertyChange"
                || Text(e, "propertyName") != "lifecyclestage"
                || Text(e, "propertyValue") is not { } value
                || (customStages.TryGetValue(value, out var mapped) ? mapped : DefaultStages.GetValueOrDefault(value)) is not { } stage
                || Text(e, "objectId") is not { } contact
                || Text(e, "eventId") is not { } eventId
                || !e.TryGetProperty("occurredAt", out var at) || !at.TryGetInt64(out var millis))
            {
                continue;
            }

            var payload = new OutcomePayload
            {
                Type = OutcomeTypes.Stage,
                Stage = stage,
                ExternalId = contact,
                SourceSystem = "hubspot",
                OccurredAt = DateTimeOffset.FromUnixTimeMilliseconds(millis).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            };
            outcomes.Add((payload, new OutcomeContext { Door = "hubspot", ReceivedAt = receivedAt, DerivedEventId = $"hubspot:{Text(e, "portalId")}:{eventId}" }));
        }

        return outcomes;
    }

    // Ids arrive as JSON numbers, values as strings: both read as text.
    private static string? Text(JsonElement e, string name) =>
        !e.TryGetProperty(name, out var value) ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : value.ValueKind == JsonValueKind.Number ? value.GetRawText()
        : null;
}
