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
using static Ingest.Collector.Webhooks.WebhooksApi;

namespace Ingest.Collector.Webhooks.GoogleAds;

/// <summary><c>POST /v1/webhooks/google-ads</c>: Google Ads lead form webhooks, authenticated by their key field.</summary>
public static class GoogleAdsWebhook
{
    public static RouteGroupBuilder MapGoogleAds(this RouteGroupBuilder group)
    {
        group.MapPost("/google-ads", GoogleAds)
            .WithName("GoogleAdsLeadFormWebhook")
            .WithSummary("Google Ads lead form webhook")
            .WithDescription("Authenticated by the body's google_key field (Webhooks:GoogleAds:Key), compared in constant time; a body field is no OpenAPI security scheme, so the operation declares none. Test leads (is_test) are stored flagged.")
            .Accepts<JsonElement>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesFieldProblem();
        return group;
    }

    public static async Task<Results<Ok<WebhookAccepted>, ProblemHttpResult>> GoogleAds(
        HttpContext http, TouchIntake intake, TimeProvider time, IdentityNormalizer normalizer, IOptions<WebhookOptions> options, IOptions<TouchProducerOptions> producer,
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
            document = JsonText.Parse(body, new JsonDocumentOptions { AllowTrailingCommas = true });
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

            var (payload, context) = GoogleAdsMapping.Map(root, normalizer, time.GetUtcNow());
            if (context is null)
            {
                return ProblemResponses.Validation([new FieldError("lead_id", "missing_lead_id", "lead_id is required.")]);
            }

            return await AcceptOne(http, intake, producer.Value, payload, context, cancellationToken);
        }
    }
}
