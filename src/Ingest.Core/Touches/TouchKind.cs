using System.Text.Json.Serialization;

namespace Ingest.Core.Touches;

/// <summary>
/// What a touch is: a conversion (form, call, ad, offline: a badge scan or list entry imported from a file) or browsing
/// (visit, which alone makes a visitor, not a lead).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<TouchKind>))]
public enum TouchKind
{
    [JsonStringEnumMemberName("form")] Form,
    [JsonStringEnumMemberName("call")] Call,
    [JsonStringEnumMemberName("ad")] Ad,
    [JsonStringEnumMemberName("visit")] Visit,
    [JsonStringEnumMemberName("offline")] Offline,
}
