using System.Globalization;
using System.Text;
using System.Text.Json;
using Ingest.Collector.Http;
using Ingest.Collector.Kafka;
using Ingest.Collector.OpenApi;
using Ingest.Collector.Problems;
using Ingest.Collector.Touches;
using Ingest.Core.Identity;
using Ingest.Core.Touches;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using static Ingest.Collector.Webhooks.WebhooksApi;

namespace Ingest.Collector.Webhooks.Meta;

/// <summary><c>GET|POST /v1/webhooks/meta</c>: the subscription handshake and Lead Ads leadgen notifications.</summary>
public static class MetaWebhook
{
    public static RouteGroupBuilder MapMeta(this RouteGroupBuilder group)
    {
        group.MapGet("/meta", MetaVerify)
            .WithName("MetaWebhookVerification")
            .WithSecurityScheme(OpenApiSecurity.MetaVerifyToken)
            .WithSummary("Meta webhook subscription handshake")
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .ProducesProblem(StatusCodes.Status403Forbidden);

        group.MapPost("/meta", Meta)
            .WithName("MetaLeadAdsWebhook")
            .WithSecurityScheme(OpenApiSecurity.MetaSignature)
            .WithSummary("Meta Lead Ads leadgen notifications")
            .WithDescription("X-Hub-Signature-256 = sha256=<hex HMAC-SHA256(app secret, raw body)>. Each leadgen change becomes one ad touch awaiting enrichment.")
            .Accepts<JsonElement>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return group;
    }

    public static Results<ContentHttpResult, ProblemHttpResult> MetaVerify(HttpContext http, IOptions<WebhookOptions> options)
    {
        var expected = options.Value.Meta.VerifyToken;
        if (string.IsNullOrWhiteSpace(expected))
        {
            return NotConfigured("Meta", "Webhooks:Meta:VerifyToken");
        }

        var query = http.Request.Query;
        string? Q(string name) => query.TryGetValue(name, out var v) ? v.ToString() : query.TryGetValue(name.Replace('.', '_'), out var u) ? u.ToString() : null;
        if (Q("hub.mode") != "subscribe" || !WebhookSignatures.SecretEquals(expected, Q("hub.verify_token")) || string.IsNullOrEmpty(Q("hub.challenge")))
        {
            return ProblemResponses.Problem(StatusCodes.Status403Forbidden, ProblemTypes.Forbidden, "hub.mode must be subscribe and hub.verify_token must match.", "hub.verify_token");
        }

        return TypedResults.Content(Q("hub.challenge"), "text/plain");
    }

    public static async Task<Results<Ok<WebhookAccepted>, JsonHttpResult<WebhookAccepted>, ProblemHttpResult>> Meta(
        HttpContext http, TouchIntake intake, TimeProvider time, IOptions<WebhookOptions> options, IOptions<TouchProducerOptions> producer, CancellationToken cancellationToken)
    {
        var secret = options.Value.Meta.AppSecret;
        if (string.IsNullOrWhiteSpace(secret))
        {
            return NotConfigured("Meta", "Webhooks:Meta:AppSecret");
        }

        var (body, problem) = await ReadSignedAsync(http, "X-Hub-Signature-256", (raw, signature) => MetaSignature.IsValid(secret, raw, signature), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        List<(TouchPayload Payload, TouchContext Context)> leads;
        try
        {
            using var document = JsonText.Parse(body);
            leads = MetaMapping.Map(document.RootElement, time.GetUtcNow());
        }
        catch (JsonException ex)
        {
            return RequestBody.Malformed(ex);
        }

        var outcomes = await intake.AcceptManyAsync(leads.Select(static l => (TouchPayload?)l.Payload).ToList(), i => leads[i].Context, cancellationToken);
        var accepted = new WebhookAccepted("accepted", outcomes.Where(static o => o.Accepted).Select(static o => o.EventId!).ToList());
        if (outcomes.Any(static o => o.Unavailable))
        {
            // Meta retries for 36 hours; the derived event ids make the retry safe.
            IntakeAnswers.SetRetryAfter(http, producer.Value);
            return TypedResults.Json(accepted with { Status = "unavailable" }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return TypedResults.Ok(accepted);
    }
}
