using System.Security.Cryptography;
using System.Text;

namespace Ingest.Collector.Webhooks;

/// <summary>Provider signature checks; every comparison is constant-time.</summary>
public static class WebhookSignatures
{
    /// <summary>CallRail: <c>Signature</c> = Base64(HMAC-SHA1(signing key, raw body)), any configured key.</summary>
    public static bool CallRailValid(IEnumerable<string> keys, ReadOnlySpan<byte> body, string? signature)
    {
        if (string.IsNullOrEmpty(signature))
        {
            return false;
        }

        var given = Encoding.ASCII.GetBytes(signature.Trim());
        var valid = false;
        foreach (var key in keys)
        {
            var expected = Encoding.ASCII.GetBytes(Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(key), body)));
            valid |= CryptographicOperations.FixedTimeEquals(expected, given);
        }

        return valid;
    }

    /// <summary>
    /// Twilio: Base64(HMAC-SHA1(auth token, URL + each POST parameter name and value, sorted by name)). Checked for the
    /// URL as given, with the default port added and with it removed, as Twilio's own libraries do.
    /// </summary>
    public static bool TwilioValid(string authToken, string url, IEnumerable<KeyValuePair<string, string[]>> parameters, string? signature)
    {
        if (string.IsNullOrEmpty(signature))
        {
            return false;
        }

        var suffix = new StringBuilder();
        foreach (var (name, values) in parameters.OrderBy(static p => p.Key, StringComparer.Ordinal))
        {
            foreach (var value in values.Distinct().Order(StringComparer.Ordinal))
            {
                suffix.Append(name).Append(value);
            }
        }

        var given = Encoding.ASCII.GetBytes(signature.Trim());
        var valid = false;
        foreach (var candidate in UrlVariants(url))
        {
            var expected = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(candidate + suffix)));
            valid |= CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), given);
        }

        return valid;
    }

    /// <summary>Meta: <c>X-Hub-Signature-256: sha256=&lt;hex HMAC-SHA256(app secret, raw body)&gt;</c>.</summary>
    public static bool MetaValid(string appSecret, ReadOnlySpan<byte> body, string? signature)
    {
        const string prefix = "sha256=";
        if (string.IsNullOrEmpty(signature) || !signature.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(appSecret), body)));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature[prefix.Length..].Trim().ToLowerInvariant()));
    }

    /// <summary>Constant-time equality of two secrets.</summary>
    public static bool SecretEquals(string? expected, string? given) =>
        expected is not null && given is not null
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));

    private static IEnumerable<string> UrlVariants(string url)
    {
        yield return url;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            yield break;
        }

        var defaultPort = uri.Scheme == Uri.UriSchemeHttps ? 443 : 80;
        var withPort = $"{uri.Scheme}://{uri.Host}:{(uri.IsDefaultPort ? defaultPort : uri.Port)}{uri.PathAndQuery}";
        var withoutPort = uri.IsDefaultPort ? $"{uri.Scheme}://{uri.Host}{uri.PathAndQuery}" : url;
        yield return withPort;
        yield return withoutPort;
    }
}
