using System.Globalization;

namespace Ingest.Core.Time;

/// <summary>RFC 3339 timestamps, as every door and query parameter accepts them.</summary>
public static class Rfc3339
{
    private static readonly string[] Formats =
        ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mm:ssK", "yyyy-MM-dd HH:mm:ss.FFFFFFFK"];

    /// <summary>A date, a time and an explicit offset (<c>Z</c> or <c>±hh:mm</c>), read as UTC.</summary>
    public static bool TryParse(string text, out DateTimeOffset value)
    {
        // RFC 3339 allows lower-case 't' and 'z'.
        var trimmed = text.Trim().ToUpperInvariant();
        var hasOffset = trimmed.EndsWith('Z') || (trimmed.Length > 6 && trimmed[^6] is '+' or '-' && trimmed[^3] == ':');
        if (hasOffset && DateTimeOffset.TryParseExact(trimmed, Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out value))
        {
            value = value.ToUniversalTime();
            return true;
        }

        value = default;
        return false;
    }
}
