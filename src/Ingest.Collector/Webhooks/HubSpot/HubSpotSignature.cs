using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Ingest.Collector.Webhooks.HubSpot;

/// <summary>
/// HubSpot's v3 request signature: <c>X-HubSpot-Signature-v3</c> = Base64(HMAC-SHA256(client secret, method + URI + body +
/// timestamp)), where the URI is the full URL HubSpot called with the characters its docs list URL-decoded and the
/// timestamp is <c>X-HubSpot-Request-Timestamp</c> (milliseconds since the epoch). Requests older than
/// <see cref="MaxAge"/> are refused (replay protection); the comparison is constant-time.
/// </summary>
public static class HubSpotSignature
{
    /// <summary>How old (or how far ahead of our clock) a signed request may be.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    // The escapes HubSpot decodes before signing (its "Validating requests" page lists exactly these).
    private static readonly (string Escape, string Character)[] Decoded =
    [
        ("%3A", ":"), ("%2F", "/"), ("%3F", "?"), ("%40", "@"), ("%21", "!"), ("%24", "$"), ("%27", "'"), ("%28", "("), ("%29", ")"), ("%2A", "*"),
        ("%2C", ","), ("%3B", ";"),
    ];

    /// <summary>Why the request is refused, or null when its signature matches and its timestamp is fresh.</summary>
    public static string? Problem(string secret, string method, string uri, ReadOnlySpan<byte> body, string? timestamp, string? signature, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(signature) || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var millis))
        {
            return "X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp are required.";
        }

        var sent = DateTimeOffset.FromUnixTimeMilliseconds(Math.Min(millis, DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()));
        if ((now - sent).Duration() > MaxAge)
        {
            return "X-HubSpot-Request-Timestamp is more than 5 minutes away from now (a replayed or delayed request).";
        }

        Span<byte> given = stackalloc byte[SHA256.HashSizeInBytes];
        if (!Convert.TryFromBase64String(signature, given, out var written) || written != given.Length)
        {
            return "X-HubSpot-Signature-v3 does not match.";
        }

        var prefix = Encoding.UTF8.GetBytes(method.ToUpperInvariant() + DecodeUri(uri));
        var suffix = Encoding.UTF8.GetBytes(timestamp!);
        var signed = new byte[prefix.Length + body.Length + suffix.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        suffix.CopyTo(signed, prefix.Length + body.Length);
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
        return CryptographicOperations.FixedTimeEquals(expected, given) ? null : "X-HubSpot-Signature-v3 does not match.";
    }

    /// <summary>The URI as HubSpot signs it: the listed escapes decoded (either case), everything else verbatim.</summary>
    public static string DecodeUri(string uri)
    {
        foreach (var (escape, character) in Decoded)
        {
            uri = uri.Replace(escape, character, StringComparison.OrdinalIgnoreCase);
        }

        return uri;
    }
}
