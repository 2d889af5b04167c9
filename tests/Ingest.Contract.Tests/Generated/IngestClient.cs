using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ingest.Contract.Tests.Generated;

/// <summary>The one setting the generated client leaves to its user.</summary>
public partial class IngestClient
{
    // A client sends what it sets: nulls are left out, as the collector itself writes them (and as the document's
    // optional properties allow), rather than sent as explicit nulls for every field of TouchPayload.
    static partial void UpdateJsonSerializerSettings(JsonSerializerOptions settings) =>
        settings.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
}

/// <summary>
/// The raw body NSwag 14.8 types the form door's request with (x-www-form-urlencoded or multipart) while emitting the class
/// only for file parameters; given here with NSwag's own shape so the generated client compiles.
/// </summary>
public sealed class FileParameter(Stream data, string? fileName = null, string? contentType = null)
{
    public Stream Data { get; } = data;
    public string? FileName { get; } = fileName;
    public string? ContentType { get; } = contentType;
}
