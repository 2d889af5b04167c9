using System.Reflection;
using System.Text.Json;
using Ingest.Core.Serialization;

namespace Ingest.Core.Touches;

/// <summary>
/// The one list of click-id parameter names (<c>click-ids.json</c>, embedded; the browser snippet imports the same file),
/// lower-case, in the governance rules' precedence order. Names match case-insensitively (<c>ScCid</c> is <c>sccid</c>).
/// </summary>
public static class ClickIds
{
    /// <summary>Every click-id name, lower-case, in precedence order.</summary>
    public static IReadOnlyList<string> Names { get; } = Load();

    /// <summary>The listed name <paramref name="name"/> stands for, in any case; null when it is not a click id.</summary>
    public static string? Find(string name)
    {
        foreach (var known in Names)
        {
            if (known.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        return null;
    }

    private static string[] Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Ingest.Core.Touches.click-ids.json")
            ?? throw new InvalidOperationException("The embedded click-ids.json is missing.");
        var names = JsonSerializer.Deserialize(stream, IngestJsonContext.Default.StringArray);
        if (names is not { Length: > 0 } || names.Any(static n => string.IsNullOrWhiteSpace(n) || n != n.ToLowerInvariant()))
        {
            throw new InvalidOperationException("click-ids.json must be a non-empty array of lower-case names.");
        }

        return names;
    }
}
