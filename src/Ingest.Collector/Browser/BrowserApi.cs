using System.Globalization;
using System.Text.Json;
using Ingest.Collector.Http;
using Ingest.Collector.Kafka;
using Ingest.Collector.OpenApi;
using Ingest.Collector.Problems;
using Ingest.Collector.Touches;
using Ingest.Core.Governance;
using Ingest.Core.Identity;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Ingest.Collector.Browser;

/// <summary>
/// The browser half: <c>GET /v1/ingest.js</c> (the snippet), <c>POST /v1/browser/touches</c> (touches from pages, write
/// key in the query or body, allowed origins only) and <c>POST /v1/id</c> (a server-set first-party id cookie).
/// </summary>
public static partial class BrowserApi
{
    public const string CorsPolicy = "browser";
    public const string IdCookie = "_ingest_id";
    private const string Door = "browser";

    public static IServiceCollection AddBrowserCapture(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<BrowserOptions>().BindConfiguration("Collector:Browser").ValidateOnStart();
        services.AddSingleton<IValidateOptions<BrowserOptions>, BrowserOptionsValidator>();
        services.AddSingleton<BrowserGate>();
        services.AddSingleton<SnippetAsset>();
        var origins = configuration.GetSection("Collector:CorsOrigins").Get<string[]>() ?? [];
        // Credentials only for /v1/id, whose answer sets the cookie; the snippet posts touches without them.
        services.AddCors(o => o.AddPolicy(CorsPolicy, p => p
            .WithOrigins(origins)
            .WithMethods("POST")
            .WithHeaders("Content-Type")
            .AllowCredentials()
            .SetPreflightMaxAge(TimeSpan.FromHours(1))));
        return services;
    }

    public static IEndpointRouteBuilder MapBrowserApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/ingest.js", GetSnippet)
            .WithTags("Browser")
            .WithName("GetSnippet")
            .WithSummary("The ingest.js browser snippet")
            .WithDescription("Embed as &lt;script src=\"https://COLLECTOR/v1/ingest.js\" data-write-key=\"KEY\" async&gt;&lt;/script&gt;. Compressed (br, gzip), ETag; cached a day, or a year under ?v=<version> (the ETag's value).")
            .Produces(StatusCodes.Status200OK, contentType: "text/javascript")
            .Produces(StatusCodes.Status304NotModified);

        var browser = app.MapGroup("/v1")
            .WithTags("Browser")
            .RequireCors(CorsPolicy)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        browser.MapPost("/browser/touches", PostBrowserTouch)
            .WithName("PostBrowserTouch")
            .WithSecurityScheme(OpenApiSecurity.BrowserWriteKey)
            .WithSummary("Record one touch from a web page")
            .WithDescription("The browser door: no headers needed (navigator.sendBeacon, fetch keepalive). The write key comes in ?write_key= or the body's \"write_key\"; only origins listed in Collector:CorsOrigins are accepted (403 otherwise, nothing stored). Rate-limited per key and per client address. Self-declared bots get 202 and nothing is stored.")
            .Accepts<TouchPayload>("application/json", "text/plain")
            .Produces<TouchAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesFieldProblem()
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        browser.MapPost("/id", PostId)
            .WithName("PostAnonymousId")
            .WithSummary("Set the visitor's anonymous id as a server-set first-party cookie")
            .WithDescription("For a collector on a subdomain of the site: answers with Set-Cookie _ingest_id (Secure, SameSite=Lax, Domain=Collector:Browser:IdCookieDomain), which escapes Safari's 7-day cap on script-set cookies. The body's anonymous_id (a UUID) wins over the cookie's; without either a new one is minted.")
            .Accepts<AnonymousIdBody>("application/json", "text/plain")
            .Produces<AnonymousIdBody>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return app;
    }

    public static Results<FileContentHttpResult, StatusCodeHttpResult> GetSnippet(HttpContext http, SnippetAsset snippet, string? v)
    {
        var headers = http.Response.Headers;
        headers.ETag = snippet.ETag;
        headers.Vary = "Accept-Encoding";
        headers.CacheControl = v == snippet.Version ? "public, max-age=31536000, immutable" : "public, max-age=86400, stale-while-revalidate=604800";
        // Sites that isolate themselves (Cross-Origin-Embedder-Policy) may still load it.
        headers["Cross-Origin-Resource-Policy"] = "cross-origin";
        if (http.Request.Headers.IfNoneMatch.Contains(snippet.ETag))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        var accept = http.Request.GetTypedHeaders().AcceptEncoding;
        bool Accepts(string coding) => accept.Any(a => a.Value.Equals(coding, StringComparison.OrdinalIgnoreCase) && a.Quality is not 0);
        var (body, encoding) = Accepts("br") ? (snippet.Brotli, "br") : Accepts("gzip") ? (snippet.Gzip, "gzip") : (snippet.Raw, null);
        if (encoding is not null)
        {
            headers.ContentEncoding = encoding;
        }

        return TypedResults.File(body, "text/javascript; charset=utf-8");
    }

    public static async Task<Results<Accepted<TouchAccepted>, ProblemHttpResult>> PostBrowserTouch(
        HttpContext http, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "write_key")] string? writeKey, BrowserGate gate, TouchIntake intake, TimeProvider time, GovernanceRulesProvider rules, CollectorMetrics metrics,
        IOptions<TouchProducerOptions> producer, ILogger<BrowserGate> logger, CancellationToken cancellationToken)
    {
        // Checked before the body is read: a page on another origin gets nothing stored, whatever it sends.
        if (gate.AllowedOrigin(http.Request) is null)
        {
            LogOriginRefused(logger, http.Request.Headers.Origin.ToString());
            metrics.Rejected(Door, "origin");
            return ProblemResponses.Problem(StatusCodes.Status403Forbidden, ProblemTypes.Forbidden,
                "This origin may not send touches; list it in Collector:CorsOrigins.", "Origin");
        }

        var (payload, problem) = await RequestBody.ReadJsonAsync(http.Request, TouchesApi.MaxTouchBytes, IngestJsonContext.Default.TouchPayload, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var key = writeKey ?? (payload!.Unknown?.GetValueOrDefault("write_key") is { ValueKind: JsonValueKind.String } inBody ? inBody.GetString() : null);
        if (gate.WriteKeyId(key) is not { } keyId)
        {
            metrics.Rejected(Door, "unauthorized");
            return ProblemResponses.Problem(StatusCodes.Status401Unauthorized, ProblemTypes.Unauthorized,
                "Send a valid write key as ?write_key= or as \"write_key\" in the body.", "write_key");
        }

        using (var lease = gate.Acquire(keyId, http))
        {
            if (!lease.IsAcquired)
            {
                metrics.Rejected(Door, "rate_limited");
                http.Response.Headers.RetryAfter = "1";
                return ProblemResponses.Problem(StatusCodes.Status429TooManyRequests, ProblemTypes.RateLimited,
                    "Too many touches from this address or key; retry after 1 s with the same event_id.");
            }
        }

        if (rules.Current.IsBot(http.Request.Headers.UserAgent.ToString()))
        {
            metrics.Rejected(Door, "bot");
            return TypedResults.Accepted((string?)null, new TouchAccepted(payload!.EventId ?? Uuid7.New().ToString(), "dropped"));
        }

        var outcome = await intake.AcceptAsync(payload!, new TouchContext { Door = Door, ReceivedAt = time.GetUtcNow() }, cancellationToken);
        if (IntakeAnswers.Problem(http, outcome, producer.Value) is { } answer)
        {
            return answer;
        }

        return TypedResults.Accepted((string?)null, new TouchAccepted(outcome.EventId!, "accepted"));
    }

    public static async Task<Results<Ok<AnonymousIdBody>, ProblemHttpResult>> PostId(
        HttpContext http, BrowserGate gate, IOptions<BrowserOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (gate.AllowedOrigin(http.Request) is null)
        {
            return ProblemResponses.Problem(StatusCodes.Status403Forbidden, ProblemTypes.Forbidden,
                "This origin may not use the id cookie; list it in Collector:CorsOrigins.", "Origin");
        }

        var (body, problem) = await RequestBody.ReadJsonAsync(http.Request, 1024, CollectorJsonContext.Default.AnonymousIdBody, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var id = Uuid(body!.AnonymousId) ?? Uuid(http.Request.Cookies[IdCookie]) ?? Uuid7.New().ToString();
        var settings = options.Value;
        var cookie = new SetCookieHeaderValue(IdCookie, id)
        {
            Path = "/",
            Domain = string.IsNullOrEmpty(settings.IdCookieDomain) ? null : settings.IdCookieDomain,
            Expires = time.GetUtcNow().AddDays(settings.IdCookieDays),
            MaxAge = TimeSpan.FromDays(settings.IdCookieDays),
            Secure = true,
            SameSite = Microsoft.Net.Http.Headers.SameSiteMode.Lax,
            // Not HttpOnly: the snippet reads the id from it.
            HttpOnly = false,
        };
        http.Response.Headers.Append(HeaderNames.SetCookie, cookie.ToString());
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new AnonymousIdBody(id));
    }

    private static string? Uuid(string? text) =>
        Guid.TryParseExact(text?.Trim(), "D", out var id) ? id.ToString() : null;

    [LoggerMessage(EventId = 7000, Level = LogLevel.Debug, Message = "Browser touch refused: origin {Origin} is not in Collector:CorsOrigins")]
    private static partial void LogOriginRefused(ILogger logger, string origin);
}
