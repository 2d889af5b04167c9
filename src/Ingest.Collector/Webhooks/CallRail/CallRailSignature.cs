using System.Security.Cryptography;
using System.Text;

namespace Ingest.Collector.Webhooks.CallRail;

/// <summary>CallRail's <c>Signature</c> header check, constant-time.</summary>
public static class CallRailSignature
{
    /// <summary>CallRail: <c>Signature</c> = Base64(HMAC-SHA1(signing key, raw body)), any configured key.</summary>
    public static bool IsValid(IEnumerable<string> keys, ReadOnlySpan<byte> body, string? signature)
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
}
