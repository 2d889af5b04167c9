using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ingest.Core.Touches;

/// <summary>A touch as clients send it: flat, snake_case, URL-style names. Unknown fields are ignored.</summary>
public sealed class TouchPayload : IJsonOnDeserialized
{
    public string? EventId { get; set; }
    public string? Kind { get; set; }
    public string? OccurredAt { get; set; }

    public string? AnonymousId { get; set; }
    public string? Email { get; set; }
    public string? Phone { get; set; }
    public string? ExternalId { get; set; }

    public string? PageUrl { get; set; }
    public string? Referrer { get; set; }
    public string? UtmSource { get; set; }
    public string? UtmMedium { get; set; }
    public string? UtmCampaign { get; set; }
    public string? UtmTerm { get; set; }
    public string? UtmContent { get; set; }
    public string? UtmId { get; set; }

    public string? SelfReportedSource { get; set; }
    public Dictionary<string, bool>? Consent { get; set; }
    public JsonElement? Properties { get; set; }

    /// <summary>
    /// Click ids by their listed names (<see cref="Touches.ClickIds"/>), as sent. On the wire each is a field of its own
    /// name, in any case (<c>ScCid</c>); they arrive through <see cref="Unknown"/> so the names live in one list only.
    /// </summary>
    [JsonIgnore]
    public Dictionary<string, string>? ClickIds { get; set; }

    /// <summary>Fields the schema does not name; the click ids among them move to <see cref="ClickIds"/>, the rest are ignored.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    /// <summary>Sets a listed click id (a door mapping a provider's field); blank values are skipped.</summary>
    public void AddClickId(string name, string? value)
    {
        var listed = Touches.ClickIds.Find(name) ?? throw new ArgumentException($"{name} is not in click-ids.json.", nameof(name));
        if (!string.IsNullOrWhiteSpace(value))
        {
            (ClickIds ??= new Dictionary<string, string>(StringComparer.Ordinal))[listed] = value;
        }
    }

    void IJsonOnDeserialized.OnDeserialized()
    {
        if (Unknown is null)
        {
            return;
        }

        foreach (var (name, value) in Unknown)
        {
            if (Touches.ClickIds.Find(name) is null || value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            // A typed field of the schema answers a wrong type with this error; a click id keeps answering the same.
            if (value.ValueKind != JsonValueKind.String)
            {
                throw new JsonException($"The JSON value could not be converted to a string at {name}.", "$." + name, null, null);
            }

            AddClickId(name, value.GetString());
        }
    }
}
