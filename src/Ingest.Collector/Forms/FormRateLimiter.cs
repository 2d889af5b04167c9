using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Ingest.Collector.Problems;
using Microsoft.Extensions.Options;

namespace Ingest.Collector.Forms;

/// <summary>
/// The forms door's limits, checked before the form is read: one token bucket per client address (an IPv6 client by
/// its /64, what one subscriber is given), then one per configured form. Unknown form ids get no bucket of their own,
/// so they cannot grow the limiter's partitions; they still spend the client's.
/// </summary>
public sealed class FormRateLimiter : IEndpointFilter, IDisposable
{
    private readonly PartitionedRateLimiter<HttpContext> _limiter;
    private readonly CollectorMetrics _metrics;

    public FormRateLimiter(IOptions<FormRateLimitOptions> options, IOptions<FormsOptions> forms, CollectorMetrics metrics)
    {
        var limits = options.Value;
        var known = forms.Value.Forms;
        _metrics = metrics;
        var perClient = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            RateLimitPartition.GetTokenBucketLimiter(ClientKey(http.Connection.RemoteIpAddress), _ => Bucket(limits.ClientBurst, limits.ClientPermitsPerMinute)));
        var perForm = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            http.Request.RouteValues["formId"] is string id && known.ContainsKey(id)
                ? RateLimitPartition.GetTokenBucketLimiter(id, _ => Bucket(limits.FormBurst, limits.FormPermitsPerMinute))
                : RateLimitPartition.GetNoLimiter(""));
        _limiter = PartitionedRateLimiter.CreateChained(perClient, perForm);
    }

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        using var lease = _limiter.AttemptAcquire(http);
        if (lease.IsAcquired)
        {
            return await next(context);
        }

        _metrics.Rejected(FormsApi.Door, "rate_limited");
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var delay) && delay > TimeSpan.FromSeconds(1) ? delay : TimeSpan.FromSeconds(1);
        http.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return ProblemResponses.Problem(StatusCodes.Status429TooManyRequests, ProblemTypes.RateLimited,
            string.Create(CultureInfo.InvariantCulture, $"Too many form posts from this address or to this form; retry after {Math.Ceiling(retryAfter.TotalSeconds)} s."));
    }

    public void Dispose() => _limiter.Dispose();

    private static TokenBucketRateLimiterOptions Bucket(int burst, int perMinute) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = perMinute,
        ReplenishmentPeriod = TimeSpan.FromMinutes(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    private static string ClientKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }
}
