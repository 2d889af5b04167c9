using System.Text.Json;

namespace Ingest.Collector.Touches;

/// <summary>
/// Free-form answers (form fields, lead-form questions) kept as touch properties, capped so they always fit
/// <see cref="Ingest.Core.Touches.TouchLimits.MaxPropertiesBytes"/>: a chatty message never costs the lead.
/// </summary>
internal static class PropertyBag
{
    private const int MaxFields = 50;
    private const int MaxValueLength = 1_000;
    private const int MaxTotalLength = 12_000;

    public static JsonElement? From(IEnumerable<KeyValuePair<string, string>> fields)
    {
        var kept = new Dictionary<string, string>();
        var total = 0;
        foreach (var (name, value) in fields)
        {
            var key = name.ToLowerInvariant();
            var text = value.Length <= MaxValueLength ? value : value[..MaxValueLength];
            if (kept.Count == MaxFields || total + key.Length + text.Length > MaxTotalLength || kept.ContainsKey(key))
            {
                continue;
            }

            kept[key] = text;
            total += key.Length + text.Length;
        }

        return kept.Count == 0 ? null : JsonSerializer.SerializeToElement(kept, CollectorJsonContext.Default.DictionaryStringString);
    }
}
