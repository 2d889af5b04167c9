using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ingest.Core.Touches;

/// <summary>A touch as clients send it: flat, snake_case, URL-style names. Unknown fields are ignored.</summary>
public sealed class TouchPayload
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

    public string? Gclid { get; set; }
    public string? Gbraid { get; set; }
    public string? Wbraid { get; set; }
    public string? Dclid { get; set; }
    public string? Msclkid { get; set; }
    public string? Fbclid { get; set; }
    public string? Ttclid { get; set; }
    public string? LiFatId { get; set; }
    public string? Twclid { get; set; }
    public string? Sccid { get; set; }
    public string? Epik { get; set; }
    public string? RdtCid { get; set; }
    public string? Yclid { get; set; }

    public string? SelfReportedSource { get; set; }
    public Dictionary<string, bool>? Consent { get; set; }
    public JsonElement? Properties { get; set; }

    /// <summary>Fields the schema does not name; scanned only for click ids spelled in other cases (<c>ScCid</c>).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
