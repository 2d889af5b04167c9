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

namespace Ingest.Collector.Webhooks.Twilio;

/// <summary><c>POST /v1/webhooks/twilio</c>: Twilio voice webhooks (incoming calls), answered with empty TwiML.</summary>
public static class TwilioWebhook
{
    private const string EmptyTwiml = """<?xml version="1.0" encoding="UTF-8"?><Response></Response>""";

    public static RouteGroupBuilder MapTwilio(this RouteGroupBuilder group)
    {
        group.MapPost("/twilio", Twilio)
            .WithName("TwilioVoiceWebhook")
            .WithSecurityScheme(OpenApiSecurity.TwilioSignature)
            .WithSummary("Twilio voice webhook (incoming call)")
            .WithDescription("X-Twilio-Signature over the public URL and the sorted POST parameters. Answers empty TwiML.")
            .Accepts<Dictionary<string, string>>("application/x-www-form-urlencoded")
            .Produces<string>(StatusCodes.Status200OK, "text/xml")
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesFieldProblem();
        return group;
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> Twilio(
        HttpContext http, TouchIntake intake, TimeProvider time, IdentityNormalizer normalizer, IOptions<WebhookOptions> options, IOptions<TouchProducerOptions> producer,
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
        if (!TwilioSignature.IsValid(token, url, form.Select(static kv => new KeyValuePair<string, string[]>(kv.Key, kv.Value.ToArray()!)), http.Request.Headers["X-Twilio-Signature"]))
        {
            return BadSignature("X-Twilio-Signature");
        }

        var (payload, context) = TwilioMapping.Map(form, normalizer, time.GetUtcNow());
        if (context is null)
        {
            return ProblemResponses.Validation([new FieldError("CallSid", "missing_call_sid", "CallSid is required.")]);
        }

        var outcome = await intake.AcceptAsync(payload, context, cancellationToken);
        if (IntakeAnswers.Problem(http, outcome, producer.Value) is { } answer)
        {
            return answer;
        }

        return TypedResults.Content(EmptyTwiml, "text/xml", Encoding.UTF8);
    }

    /// <summary>The URL Twilio signed: the configured public base (behind a proxy) or the request's own URL.</summary>
    internal static string PublicUrl(HttpRequest request, string? publicBaseUrl)
    {
        var pathAndQuery = request.PathBase + request.Path + request.QueryString;
        return string.IsNullOrWhiteSpace(publicBaseUrl)
            ? $"{request.Scheme}://{request.Host}{pathAndQuery}"
            : publicBaseUrl.TrimEnd('/') + pathAndQuery;
    }
}
