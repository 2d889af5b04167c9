using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Ingest.Collector.Problems;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Ingest.Collector.Security;

/// <summary>Write keys (<c>Collector:WriteKeys</c>) and read keys (<c>Api:ReadKeys</c>).</summary>
public sealed class ApiKeyOptions
{
    public List<string> WriteKeys { get; } = [];
    public List<string> ReadKeys { get; } = [];
}

/// <summary>
/// <c>Authorization: Bearer &lt;key&gt;</c>. A write key grants <see cref="ApiKeyAuthentication.WriteRole"/> only: write keys sit in
/// public web pages and never grant reads. Keys are compared as SHA-256 digests in constant time.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<ApiKeyOptions> keys) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private readonly byte[][] _writeDigests = keys.Value.WriteKeys.Where(static k => k.Length > 0).Select(Digest).ToArray();
    private readonly byte[][] _readDigests = keys.Value.ReadKeys.Where(static k => k.Length > 0).Select(Digest).ToArray();

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.Fail("Authorization must be 'Bearer <key>'"));
        }

        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        var key = header.AsSpan(7).Trim();
        Span<byte> utf8 = key.Length <= 256 ? stackalloc byte[key.Length * 3] : new byte[key.Length * 3];
        var written = Encoding.UTF8.GetBytes(key, utf8);
        SHA256.HashData(utf8[..written], digest);

        var role = Matches(_writeDigests, digest) ? ApiKeyAuthentication.WriteRole
            : Matches(_readDigests, digest) ? ApiKeyAuthentication.ReadRole
            : null;
        if (role is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, role), new Claim(ApiKeyAuthentication.KeyIdClaim, KeyId(digest))], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        ProblemResponses.Write(Context, StatusCodes.Status401Unauthorized, ProblemTypes.Unauthorized,
            "Send a valid key as 'Authorization: Bearer <key>'.", field: "Authorization");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ProblemResponses.Write(Context, StatusCodes.Status403Forbidden, ProblemTypes.Forbidden,
            "This key may not use this endpoint (write keys never grant reads).", field: "Authorization");

    private static bool Matches(byte[][] digests, ReadOnlySpan<byte> digest)
    {
        var found = false;
        foreach (var candidate in digests)
        {
            found |= CryptographicOperations.FixedTimeEquals(candidate, digest);
        }

        return found;
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key.Trim()));

    // A short, non-reversible id of the key for rate-limit partitions and logs (the key itself is a secret).
    private static string KeyId(ReadOnlySpan<byte> digest) => Convert.ToHexString(digest[..6]);
}

/// <summary>Scheme, role and policy names of API-key authentication.</summary>
public static class ApiKeyAuthentication
{
    public const string Scheme = "ApiKey";
    public const string WriteRole = "write";
    public const string ReadRole = "read";
    public const string WritePolicy = "write";
    public const string ReadPolicy = "read";
    public const string KeyIdClaim = "ingest:key_id";

    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ApiKeyOptions>().Configure(o =>
        {
            o.WriteKeys.AddRange(configuration.GetSection("Collector:WriteKeys").Get<string[]>() ?? []);
            o.ReadKeys.AddRange(configuration.GetSection("Api:ReadKeys").Get<string[]>() ?? []);
        });
        services.AddAuthentication(Scheme).AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(WritePolicy, p => p.RequireRole(WriteRole))
            .AddPolicy(ReadPolicy, p => p.RequireRole(ReadRole));
        return services;
    }
}
