using System.Security.Cryptography;
using System.Text;

namespace Ingest.Collector.Webhooks;

/// <summary>The secret comparison every provider check shares; each provider's own check lives in its folder.</summary>
public static class WebhookSignatures
{
    /// <summary>Constant-time equality of two secrets.</summary>
    public static bool SecretEquals(string? expected, string? given) =>
        expected is not null && given is not null
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));
}
