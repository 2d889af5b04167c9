using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Ingest.Collector.Problems;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Ingest.Collector.Security;

/// <summary>Write keys (<c>Collector:WriteKeys</c>), server keys (<c>Collector:ServerKeys</c>) and read keys (<c>Api:ReadKeys</c>).</summary>
public sealed class ApiKeyOptions
{
    public List<string> WriteKeys { get; } = [];
    public List<string> ServerKeys { get; } = [];
    public List<string> ReadKeys { get; } = [];
}

/// <summary>
/// Blank keys are refused; in Production a collector without a write key or a read key fails start-up (every touch or
/// every read would answer 401).
/// </summary>
public sealed class ApiKeyOptionsValidator(IHostEnvironment environment) : IValidateOptions<ApiKeyOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiKeyOptions options)
    {
        var failures = new List<string>();
        Check(options.WriteKeys, ApiKeyAuthentication.WriteKeysSetting, failures);
        Check(options.ReadKeys, ApiKeyAuthentication.ReadKeysSetting, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void Check(List<string> keys, string setting, List<string> failures)
    {
        for (var i = 0; i < keys.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(keys[i]))
            {
                failures.Add($"{setting}:{i} is blank; remove it or give it a key.");
            }
        }

        if (keys.Count == 0 && environment.IsProduction())
        {
            failures.Add($"{setting} has no key; set at least one ({setting.Replace(":", "__", StringComparison.Ordinal)}__0) in Production.");
        }
    }
}

/// <summary>The configured keys as SHA-256 digests, each with the (immutable) principal it authenticates as.</summary>
public sealed class ApiKeyDirectory(IOptions<ApiKeyOptions> keys)
{
    private readonly (byte[] Digest, ClaimsPrincipal Principal)[] _write = Principals(keys.Value.WriteKeys, ApiKeyAuthentication.WriteRole);
    private readonly (byte[] Digest, ClaimsPrincipal Principal)[] _server = Principals(keys.Value.ServerKeys, ApiKeyAuthentication.ServerRole);
    private readonly (byte[] Digest, ClaimsPrincipal Principal)[] _read = Principals(keys.Value.ReadKeys, ApiKeyAuthentication.ReadRole);

    /// <summary>The principal of the key with this digest, or null; every configured key is compared in constant time.</summary>
    public ClaimsPrincipal? Find(ReadOnlySpan<byte> digest)
    {
        ClaimsPrincipal? found = null;
        foreach (var (candidate, principal) in _write)
        {
            found = CryptographicOperations.FixedTimeEquals(candidate, digest) ? principal : found;
        }

        foreach (var (candidate, principal) in _server)
        {
            // A key listed as both write and server key stays a write key: a key that sits in web pages never posts outcomes.
            found = CryptographicOperations.FixedTimeEquals(candidate, digest) && found is null ? principal : found;
        }

        foreach (var (candidate, principal) in _read)
        {
            // A key listed as both write (or server) and read key keeps its first role (write keys never grant reads).
            found = CryptographicOperations.FixedTimeEquals(candidate, digest) && found is null ? principal : found;
        }

        return found;
    }

    private static (byte[], ClaimsPrincipal)[] Principals(List<string> keys, string role) => keys
        .Where(static k => k.Trim().Length > 0)
        .Select(k =>
        {
            var digest = SHA256.HashData(Encoding.UTF8.GetBytes(k.Trim()));
            // A short, non-reversible id of the key for rate-limit partitions and logs (the key itself is a secret).
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, role), new Claim(ApiKeyAuthentication.KeyIdClaim, Convert.ToHexString(digest.AsSpan(0, 6)))],
                ApiKeyAuthentication.Scheme);
            return (digest, new ClaimsPrincipal(identity));
        })
        .ToArray();
}

/// <summary>
/// <c>Authorization: Bearer &lt;key&gt;</c>. A write key grants <see cref="ApiKeyAuthentication.WriteRole"/> only: write keys sit in
/// public web pages and never grant reads; a server key (<see cref="ApiKeyAuthentication.ServerRole"/>) posts outcomes only, from CRMs and sales tools. Keys are compared as SHA-256 digests in constant time; each key's principal
/// is built once, so authenticating a request allocates only its ticket.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyDirectory keys) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
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

        return Task.FromResult(keys.Find(digest) is { } principal
            ? AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name))
            : AuthenticateResult.Fail("Unknown API key"));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        ProblemResponses.Write(Context, StatusCodes.Status401Unauthorized, ProblemTypes.Unauthorized,
            "Send a valid key as 'Authorization: Bearer <key>'.", field: "Authorization");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ProblemResponses.Write(Context, StatusCodes.Status403Forbidden, ProblemTypes.Forbidden,
            "This key may not use this endpoint (write keys never grant reads, only server keys post outcomes).", field: "Authorization");
}

/// <summary>Scheme, role and policy names of API-key authentication.</summary>
public static class ApiKeyAuthentication
{
    public const string Scheme = "ApiKey";
    public const string WriteRole = "write";
    public const string ReadRole = "read";
    public const string ServerRole = "server";
    public const string WritePolicy = "write";
    public const string ReadPolicy = "read";
    public const string ServerPolicy = "server";

    /// <summary>A read key or a server key: the handler decides what each may do (reclassification: read keys dry-run, server keys apply).</summary>
    public const string ReadOrServerPolicy = "read_or_server";
    public const string KeyIdClaim = "ingest:key_id";
    public const string WriteKeysSetting = "Collector:WriteKeys";
    public const string ReadKeysSetting = "Api:ReadKeys";

    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ApiKeyOptions>().Configure(o =>
        {
            o.WriteKeys.AddRange(configuration.GetSection(WriteKeysSetting).Get<string[]>() ?? []);
            o.ServerKeys.AddRange(configuration.GetSection("Collector:ServerKeys").Get<string[]>() ?? []);
            o.ReadKeys.AddRange(configuration.GetSection(ReadKeysSetting).Get<string[]>() ?? []);
        }).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ApiKeyOptions>, ApiKeyOptionsValidator>();
        services.AddSingleton<ApiKeyDirectory>();
        services.AddAuthentication(Scheme).AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(WritePolicy, p => p.RequireRole(WriteRole))
            .AddPolicy(ReadPolicy, p => p.RequireRole(ReadRole))
            .AddPolicy(ServerPolicy, p => p.RequireRole(ServerRole))
            .AddPolicy(ReadOrServerPolicy, p => p.RequireRole(ReadRole, ServerRole));
        return services;
    }
}
