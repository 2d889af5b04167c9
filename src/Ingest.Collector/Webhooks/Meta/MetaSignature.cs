using System.Security.Cryptography;
using System.Text;

namespace Ingest.Collector.Webhooks.Meta;

/// <summary>Meta's <c>X-Hub-Signature-256</c> header check, constant-time.</summary>
public static class MetaSignature
{
    /// <summary>Meta: <c>X-Hub-Signature-256: sha256=&lt;hex HMAC-SHA256(app secret, raw body)&gt;</c>.</summary>
    public static bool IsValid(string appSecret, ReadOnlySpan<byte> body, string? signature)
    {
        const string prefix = "sha256=";
        if (string.IsNullOrEmpty(signature) || !signature.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(appSecret), body)));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature[prefix.Length..].Trim().ToLowerInvariant()));
    }
}
