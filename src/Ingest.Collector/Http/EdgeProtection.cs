using System.Globalization;
using System.Threading.RateLimiting;
using Ingest.Collector.Problems;
using Ingest.Collector.Security;
using Ingest.Collector.Touches;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Ingest.Collector.Http;

/// <summary>Per-key rate limits (<c>Collector:RateLimit</c>).</summary>
public sealed class RateLimitOptions
{
    public const string Section = "Collector:RateLimit";

    /// <summary>Sustained requests per second per key (one batch request counts once).</summary>
    public int PermitsPerSecond { get; set; } = 50_000;

    /// <summary>Burst size per key.</summary>
    public int Burst { get; set; } = 100_000;
}

/// <summary>Both limits must be positive.</summary>
public sealed class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        var failures = new List<string>();
        if (options.PermitsPerSecond < 1)
        {
            failures.Add($"{RateLimitOptions.Section}:{nameof(options.PermitsPerSecond)} must be at least 1 (it is {options.PermitsPerSecond}).");
        }

        if (options.Burst < 1)
        {
            failures.Add($"{RateLimitOptions.Section}:{nameof(options.Burst)} must be at least 1 (it is {options.Burst}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>CORS for browser scripts and per-key rate limiting with 429 + Retry-After problems.</summary>
public static class EdgeProtection
{
    public static IServiceCollection AddEdgeProtection(this IServiceCollection services, IConfiguration configuration)
    {
        var origins = configuration.GetSection("Collector:CorsOrigins").Get<string[]>() ?? [];
        services.AddCors(o => o.AddPolicy(TouchesApi.CorsPolicy, p => p
            .WithOrigins(origins)
            .WithMethods("POST")
            .WithHeaders("Authorization", "Content-Type")
            .SetPreflightMaxAge(TimeSpan.FromHours(1))));

        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        services.AddRateLimiter(o =>
        {
            o.AddPolicy(TouchesApi.RateLimitPolicy, http =>
            {
                // Partition by the key's id (set by authentication), else by client address.
                var partition = http.User.FindFirst(ApiKeyAuthentication.KeyIdClaim)?.Value
                    ?? http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
                return RateLimitPartition.GetTokenBucketLimiter(partition, _ =>
                {
                    // Runs once per partition (key), not per request.
                    var limits = http.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                    return new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = limits.Burst,
                        TokensPerPeriod = limits.PermitsPerSecond,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    };
                });
            });
            o.OnRejected = static (context, _) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var delay) ? delay : TimeSpan.FromSeconds(1);
                return new ValueTask(ProblemResponses.Write(context.HttpContext, StatusCodes.Status429TooManyRequests, ProblemTypes.RateLimited,
                    string.Create(CultureInfo.InvariantCulture, $"Rate limit exceeded for this key; retry after {Math.Ceiling(retryAfter.TotalSeconds)} s."),
                    retryAfter: retryAfter < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : retryAfter));
            };
        });
        return services;
    }
}
