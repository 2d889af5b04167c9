using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Ingest.Collector.Http;
using Ingest.Collector.Security;
using Microsoft.Extensions.Options;

namespace Ingest.Collector.Browser;

/// <summary>
/// What a browser request must pass before its touch is taken in: an allowed <c>Origin</c> (a beacon is a simple
/// request, so CORS alone never stops it), a write key from the query or body, and rate limits per key and per client
/// address.
/// </summary>
public sealed class BrowserGate : IDisposable
{
    private readonly HashSet<string> _origins;
    private readonly ApiKeyDirectory _keys;
    private readonly PartitionedRateLimiter<(string Key, string Address)> _limiter;

    public BrowserGate(IConfiguration configuration, ApiKeyDirectory keys, IOptions<BrowserOptions> options)
    {
        _origins = new HashSet<string>((configuration.GetSection("Collector:CorsOrigins").Get<string[]>() ?? []).Select(Normalize), StringComparer.OrdinalIgnoreCase);
        _keys = keys;
        var perKey = configuration.GetSection("Collector:RateLimit").Get<RateLimitOptions>() ?? new RateLimitOptions();
        var browser = options.Value;
        _limiter = PartitionedRateLimiter.CreateChained(
            PartitionedRateLimiter.Create<(string Key, string Address), string>(r => RateLimitPartition.GetTokenBucketLimiter(r.Key, _ => Bucket(perKey.PermitsPerSecond, perKey.Burst))),
            PartitionedRateLimiter.Create<(string Key, string Address), string>(r => RateLimitPartition.GetTokenBucketLimiter(r.Address, _ => Bucket(browser.PermitsPerSecondPerAddress, browser.BurstPerAddress))));
    }

    /// <summary>The request's Origin when the deployment allows it (<c>Collector:CorsOrigins</c>), else null.</summary>
    public string? AllowedOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        return origin.Length > 0 && _origins.Contains(Normalize(origin)) ? origin : null;
    }

    /// <summary>The key's short id when it is a write key, else null; compared as a SHA-256 digest in constant time.</summary>
    public string? WriteKeyId(string? key)
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            return null;
        }

        var principal = _keys.Find(SHA256.HashData(Encoding.UTF8.GetBytes(key.Trim())));
        return principal is not null && principal.IsInRole(ApiKeyAuthentication.WriteRole) ? principal.FindFirst(ApiKeyAuthentication.KeyIdClaim)?.Value : null;
    }

    /// <summary>A lease from both buckets (the key's and the address's); not acquired means 429.</summary>
    public RateLimitLease Acquire(string keyId, HttpContext http) =>
        _limiter.AttemptAcquire((keyId, http.Connection.RemoteIpAddress?.ToString() ?? "unknown"));

    public void Dispose() => _limiter.Dispose();

    private static string Normalize(string origin) => origin.Trim().TrimEnd('/');

    private static TokenBucketRateLimiterOptions Bucket(int perSecond, int burst) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}
