using System.Text.Json;
using Ingest.Collector.Http;
using Ingest.Collector.Kafka;
using Ingest.Collector.OpenApi;
using Ingest.Collector.Outcomes;
using Ingest.Collector.Problems;
using Ingest.Collector.Touches;
using Ingest.Core.Outcomes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using static Ingest.Collector.Webhooks.WebhooksApi;

namespace Ingest.Collector.Webhooks.HubSpot;

/// <summary><c>POST /v1/webhooks/hubspot</c>: lifecycle stage changes of contacts, verified by HubSpot's v3 signature.</summary>
public static class HubSpotWebhook
{
    private const string SignatureHeader = "X-HubSpot-Signature-v3";
    private const string TimestampHeader = "X-HubSpot-Request-Timestamp";

    public static RouteGroupBuilder MapHubSpot(this RouteGroupBuilder group)
    {
        group.MapPost("/hubspot", HubSpot)
            .WithName("HubSpotWebhook")
            .WithSecurityScheme(OpenApiSecurity.HubSpotSignature)
            .WithSummary("HubSpot contact lifecycle stage changes")
            .WithDescription("A JSON array of HubSpot webhook events; each contact.propertyChange on lifecyclestage becomes a stage outcome for the lead whose external_id is the contact's objectId "
                + "(lead→lead, marketingqualifiedlead→mql, salesqualifiedlead→sql, opportunity, customer, evangelist→customer; custom stages through Webhooks:HubSpot:Stages). "
                + "Verified by X-HubSpot-Signature-v3 over method, URI, body and X-HubSpot-Request-Timestamp (refused when more than 5 minutes old). Answers 200 once Kafka has the outcomes.")
            .Accepts<JsonElement>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return group;
    }

    public static async Task<Results<Ok<WebhookAccepted>, JsonHttpResult<WebhookAccepted>, ProblemHttpResult>> HubSpot(
        HttpContext http, OutcomeIntake intake, TimeProvider time, IOptions<WebhookOptions> options, IOptions<TouchProducerOptions> producer, CancellationToken cancellationToken)
    {
        var settings = options.Value.HubSpot;
        if (string.IsNullOrWhiteSpace(settings.ClientSecret))
        {
            return NotConfigured("HubSpot", "Webhooks:HubSpot:ClientSecret");
        }

        var (body, problem) = await RequestBody.ReadBytesAsync(http.Request, MaxWebhookBytes, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var request = http.Request;
        var uri = (settings.PublicBaseUrl is { Length: > 0 } publicBase ? publicBase.TrimEnd('/') : $"{request.Scheme}://{request.Host}{request.PathBase}")
            + request.Path + request.QueryString;
        var now = time.GetUtcNow();
        if (HubSpotSignature.Problem(settings.ClientSecret, request.Method, uri, body, request.Headers[TimestampHeader], request.Headers[SignatureHeader], now) is { } refused)
        {
            return ProblemResponses.Problem(StatusCodes.Status401Unauthorized, ProblemTypes.BadSignature, refused, SignatureHeader);
        }

        List<(OutcomePayload Payload, OutcomeContext Context)> outcomes;
        try
        {
            using var document = JsonDocument.Parse(body);
            outcomes = HubSpotMapping.Map(document.RootElement, settings.Stages, now);
        }
        catch (JsonException ex)
        {
            return RequestBody.Malformed(ex);
        }

        var results = await intake.AcceptManyAsync(outcomes.Select(static o => (OutcomePayload?)o.Payload).ToList(), i => outcomes[i].Context, cancellationToken);
        var accepted = new WebhookAccepted("accepted", results.Where(static r => r.Accepted).Select(static r => r.EventId!).ToList());
        if (results.Any(static r => r.Unavailable))
        {
            // HubSpot retries for a day; the event ids derived from its eventId make the retry safe.
            IntakeAnswers.SetRetryAfter(http, producer.Value);
            return TypedResults.Json(accepted with { Status = "unavailable" }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return TypedResults.Ok(accepted);
    }
}
