using System.Text.Json.Serialization;

namespace Ingest.Core.Touches;

/// <summary>Which kind of door a touch came through.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TouchKind>))]
public enum TouchKind
{
    [JsonStringEnumMemberName("form")] Form,
    [JsonStringEnumMemberName("call")] Call,
    [JsonStringEnumMemberName("ad")] Ad,
}
