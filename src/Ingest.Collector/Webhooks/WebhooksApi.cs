using System.Globalization;
using System.Text;
using System.Text.Json;
using Ingest.Collector.Http;
using Ingest.Collector.Kafka;
using Ingest.Collector.Problems;
using Ingest.Collector.Touches;
using Ingest.Core.Identity;
using Ingest.Core.Touches;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Ingest.Collector.Webhooks;

/// <summary>
/// Call-tracking and ad-platform webhooks. Each request is verified (signature or key, constant-time) before its body is
/// interpreted; each touch gets a deterministic event id from the provider's own id, so redeliveries are stored once.
/// </summary>
public static class WebhooksApi
{
    private const int MaxWebhookBytes = 256 * 1024;
    private const string EmptyTwiml = """<?xml version="1.0" encoding="UTF-8"?><Response></Response>""";

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/webhooks")
            .WithTags("Webhooks")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapPost("/callrail", CallRail)
            .WithName("CallRailWebhook")
            .WithSummary("CallRail call and form-submission webhooks")
            .WithDescription("Signature: Base64(HMAC-SHA1(company signing key, raw body)) in the Signature header. Optional ?event=pre_call|call_routing_complete|post_call|call_modified|form_submission names the trigger; otherwise it is inferred.")
            .Accepts<JsonElement>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);

        group.MapPost("/twilio", Twilio)
            .WithName("TwilioVoiceWebhook")
            .WithSummary("Twilio voice webhook (incoming call)")
            .WithDescription("X-Twilio-Signature over the public URL and the sorted POST parameters. Answers empty TwiML.")
            .Accepts<Dictionary<string, string>>("application/x-www-form-urlencoded")
            .Produces<string>(StatusCodes.Status200OK, "text/xml");

        group.MapPost("/google-ads", GoogleAds)
            .WithName("GoogleAdsLeadFormWebhook")
            .WithSummary("Google Ads lead form webhook")
            .WithDescription("Authenticated by the google_key field; test leads (is_test) are stored flagged.")
            .Accepts<JsonElement>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);

        group.MapGet("/meta", MetaVerify)
            .WithName("MetaWebhookVerification")
            .WithSummary("Meta webhook subscription handshake")
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .ProducesProblem(StatusCodes.Status403Forbidden);

        group.MapPost("/meta", Meta)
            .WithName("MetaLeadAdsWebhook")
            .WithSummary("Meta Lead Ads leadgen notifications")
            .WithDescription("X-Hub-Signature-256 = sha256=<hex HMAC-SHA256(app secret, raw body)>. Each leadgen change becomes one ad touch awaiting enrichment.")
            .Accepts<JsonElement>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    public sealed record WebhookAccepted(string Status, IReadOnlyList<string> EventIds);

    public static async Task<Results<Ok<WebhookAccepted>, ProblemHttpResult>> CallRail(
        HttpContext http, string? @event, TouchIntake intake, IdentityNormalizer normalizer, IOptions<WebhookOptions> options, IOptions<TouchProducerOptions> producer,
        CancellationToken cancellationToken)
    {
        var trigger = string.IsNullOrWhiteSpace(@event) ? null : @event.Trim().ToLowerInvariant().Replace('-', '_');
        if (trigger is not null && !CallRailMapping.Triggers.Contains(trigger))
        {
            return ProblemResponses.Problem(StatusCodes.Status400BadRequest, ProblemTypes.BadQuery,
                $"event must be one of {string.Join(", ", CallRailMapping.Triggers)}.", "event");
        }

        var keys = options.Value.CallRail.SigningKeys.Where(static k => !string.IsNullOrWhiteSpace(k)).ToList();
        if (keys.Count == 0)
        {
            return NotConfigured("CallRail", "Webhooks:CallRail:SigningKeys:0");
        }

        var (body, problem) = await ReadSignedAsync(http, "Signature", (raw, signature) => WebhookSignatures.CallRailValid(keys, raw, signature), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            return RequestBody.Malformed(ex);
        }

        using (document)
        {
            var (payload, context) = CallRailMapping.Map(document.RootElement, trigger, normalizer, intake.Time.GetUtcNow());
            if (context is null)
            {
                return ProblemResponses.Validation([new FieldError("resource_id", "missing_resource_id", "resource_id (or id) is required to identify the call or form.")]);
            }

            return await AcceptOne(http, intake, producer.Value, payload, context, cancellationToken);
        }
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> Twilio(
        HttpContext http, TouchIntake intake, IdentityNormalizer normalizer, IOptions<WebhookOptions> options, IOptions<TouchProducerOptions> producer,
        CancellationToken cancellationToken)
    {
        var token = options.Value.Twilio.AuthToken;
        if (string.IsNullOrWhiteSpace(token))
        {
            return NotConfigured("Twilio", "Webhooks:Twilio:AuthToken");
        }

        var (body, problem) = await RequestBody.ReadBytesAsync(http.Request, MaxWebhookBytes, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var form = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body!));
        var url = PublicUrl(http.Request, options.Value.Twilio.PublicBaseUrl);
        if (!WebhookSignatures.TwilioValid(token, url, form.Select(static kv => new KeyValuePair<string, string[]>(kv.Key, kv.Value.ToArray()!)), http.Request.Headers["X-Twilio-Signature"]))
        {
            return BadSignature("X-Twilio-Signature");
        }

        string? Get(string name) => form.TryGetValue(name, out var v) && v.Count > 0 && !string.IsNullOrWhiteSpace(v[0]) ? v[0] : null;
        var callSid = Get("CallSid");
        if (callSid is null)
        {
            return ProblemResponses.Validation([new FieldError("CallSid", "missing_call_sid", "CallSid is required.")]);
        }

        var from = Get("From");
        // Anonymous callers arrive as placeholders (+266696687) or client:names: no phone identity then.
        var caller = from is not null && !from.StartsWith("client:", StringComparison.Ordinal) ? normalizer.NormalizePhone(from) : null;
        var facts = new Dictionary<string, string> { ["provider"] = "twilio", ["call_sid"] = callSid };
        foreach (var name in new[] { "To", "Direction", "CallStatus", "FromCity", "FromState", "FromCountry", "ToCity", "ToState", "CallerName", "ForwardedFrom" })
        {
            if (Get(name) is { } value)
            {
                facts[name == "To" ? "tracking_number" : JsonNamingPolicy.SnakeCaseLower.ConvertName(name)] = value;
            }
        }

        var payload = new TouchPayload
        {
            Kind = "call",
            Phone = caller,
            // A withheld or client caller still made a touch: keep it, keyed by the call.
            ExternalId = caller is null ? "twilio_call:" + callSid : null,
        };
        var context = new TouchContext { Door = "twilio", ReceivedAt = intake.Time.GetUtcNow(), DefaultKind = TouchKind.Call, DerivedEventId = "twilio:" + callSid, Provider = facts };
        var outcome = await intake.AcceptAsync(payload, context, cancellationToken);
        if (outcome.Rejected)
        {
            return ProblemResponses.Validation(outcome.Errors);
        }

        if (outcome.Unavailable)
        {
            return TouchesApi.KafkaUnavailable(http, producer.Value, outcome.Failure);
        }

        return TypedResults.Content(EmptyTwiml, "text/xml", Encoding.UTF8);
    }

    public static async Task<Results<Ok<WebhookAccepted>, ProblemHttpResult>> GoogleAds(
        HttpContext http, TouchIntake intake, IdentityNormalizer normalizer, IOptions<WebhookOptions> options, IOptions<TouchProducerOptions> producer,
        CancellationToken cancellationToken)
    {
        var key = options.Value.GoogleAds.Key;
        if (string.IsNullOrWhiteSpace(key))
        {
            return NotConfigured("Google Ads", "Webhooks:GoogleAds:Key");
        }

        var (body, problem) = await RequestBody.ReadBytesAsync(http.Request, MaxWebhookBytes, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            return RequestBody.Malformed(ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return ProblemResponses.Problem(StatusCodes.Status400BadRequest, ProblemTypes.Malformed, "The body must be a JSON object.");
            }

            // Google's own test sample spells it Google_key.
            var given = JsonText.Get(root, "google_key") ?? JsonText.Get(root, "Google_key");
            if (!WebhookSignatures.SecretEquals(key, given))
            {
                return ProblemResponses.Problem(StatusCodes.Status401Unauthorized, ProblemTypes.BadSignature, "google_key does not match the configured key.", "google_key");
            }

            var (payload, context) = GoogleAdsMapping.Map(root, normalizer, intake.Time.GetUtcNow());
            if (context is null)
            {
                return ProblemResponses.Validation([new FieldError("lead_id", "missing_lead_id", "lead_id is required.")]);
            }

            return await AcceptOne(http, intake, producer.Value, payload, context, cancellationToken);
        }
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
        HttpContext http, TouchIntake intake, IOptions<WebhookOptions> options, IOptions<TouchProducerOptions> producer, CancellationToken cancellationToken)
    {
        var secret = options.Value.Meta.AppSecret;
        if (string.IsNullOrWhiteSpace(secret))
        {
            return NotConfigured("Meta", "Webhooks:Meta:AppSecret");
        }

        var (body, problem) = await ReadSignedAsync(http, "X-Hub-Signature-256", (raw, signature) => WebhookSignatures.MetaValid(secret, raw, signature), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        List<(TouchPayload Payload, TouchContext Context)> leads;
        try
        {
            using var document = JsonDocument.Parse(body);
            leads = MetaMapping.Map(document.RootElement, intake.Time.GetUtcNow());
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
            http.Response.Headers.RetryAfter = producer.Value.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Json(accepted with { Status = "unavailable" }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return TypedResults.Ok(accepted);
    }

    private static async Task<Results<Ok<WebhookAccepted>, ProblemHttpResult>> AcceptOne(
        HttpContext http, TouchIntake intake, TouchProducerOptions producer, TouchPayload payload, TouchContext context, CancellationToken cancellationToken)
    {
        var outcome = await intake.AcceptAsync(payload, context, cancellationToken);
        if (outcome.Rejected)
        {
            return ProblemResponses.Validation(outcome.Errors);
        }

        if (outcome.Unavailable)
        {
            return TouchesApi.KafkaUnavailable(http, producer, outcome.Failure);
        }

        return TypedResults.Ok(new WebhookAccepted("accepted", [outcome.EventId!]));
    }

    /// <summary>Reads the raw body (size-capped) and checks its signature header before anything interprets it.</summary>
    private static async ValueTask<(byte[]? Body, ProblemHttpResult? Problem)> ReadSignedAsync(
        HttpContext http, string header, Func<byte[], string?, bool> verify, CancellationToken cancellationToken)
    {
        var (body, problem) = await RequestBody.ReadBytesAsync(http.Request, MaxWebhookBytes, cancellationToken);
        if (problem is not null)
        {
            return (null, problem);
        }

        return verify(body!, http.Request.Headers[header]) ? (body, null) : (null, BadSignature(header));
    }

    /// <summary>The URL Twilio signed: the configured public base (behind a proxy) or the request's own URL.</summary>
    internal static string PublicUrl(HttpRequest request, string? publicBaseUrl)
    {
        var pathAndQuery = request.PathBase + request.Path + request.QueryString;
        return string.IsNullOrWhiteSpace(publicBaseUrl)
            ? $"{request.Scheme}://{request.Host}{pathAndQuery}"
            : publicBaseUrl.TrimEnd('/') + pathAndQuery;
    }

    private static ProblemHttpResult NotConfigured(string provider, string setting) =>
        ProblemResponses.Problem(StatusCodes.Status404NotFound, ProblemTypes.NotFound, $"The {provider} webhook is not enabled here (set {setting}).");

    private static ProblemHttpResult BadSignature(string header) =>
        ProblemResponses.Problem(StatusCodes.Status401Unauthorized, ProblemTypes.BadSignature, $"The {header} header is missing or does not match the body.", header);
}

/// <summary>Reads provider JSON whose ids come as numbers or strings; ids are always kept as strings.</summary>
internal static class JsonText
{
    public static string? Get(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) ? Text(value) : null;

    public static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => string.IsNullOrWhiteSpace(value.GetString()) ? null : value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };
}
