using System.Text.Json;

namespace Ingest.Collector.Webhooks;

/// <summary>Reads provider JSON whose ids come as numbers or strings; ids are always kept as strings.</summary>
internal static class JsonText
{
    /// <summary>
    /// Parses a provider's body and checks that every string and property name is Unicode: JsonDocument decodes
    /// strings only when they are read, so invalid UTF-8 or an unpaired surrogate escape would otherwise surface as
    /// an InvalidOperationException deep inside a mapping. Throws <see cref="JsonException"/> (a 400) instead.
    /// </summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> body, JsonDocumentOptions options = default)
    {
        var document = JsonDocument.Parse(body, options);
        try
        {
            CheckText(document.RootElement);
            return document;
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    private static void CheckText(JsonElement element)
    {
        try
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    _ = element.GetString();
                    break;
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        _ = property.Name;
                        CheckText(property.Value);
                    }

                    break;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        CheckText(item);
                    }

                    break;
            }
        }
        catch (InvalidOperationException ex)
        {
            throw new JsonException("The body holds a string that is not valid Unicode (invalid UTF-8 or an unpaired surrogate escape).", ex);
        }
    }

    public static string? Get(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) ? Text(value) : null;

    public static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => string.IsNullOrWhiteSpace(value.GetString()) ? null : value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };
}
