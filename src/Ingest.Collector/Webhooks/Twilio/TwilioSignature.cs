using System.Security.Cryptography;
using System.Text;

namespace Ingest.Collector.Webhooks.Twilio;

/// <summary>Twilio's <c>X-Twilio-Signature</c> header check, constant-time.</summary>
public static class TwilioSignature
{
    /// <summary>
    /// Twilio: Base64(HMAC-SHA1(auth token, URL + each POST parameter name and value, sorted by name)). Checked for the
    /// URL as given, with the default port added and with it removed, as Twilio's own libraries do.
    /// </summary>
    public static bool IsValid(string authToken, string url, IEnumerable<KeyValuePair<string, string[]>> parameters, string? signature)
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
