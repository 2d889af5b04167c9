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

using Ingest.Collector.Webhooks.CallRail;
using Ingest.Collector.Webhooks.GoogleAds;
using Ingest.Collector.Webhooks.HubSpot;
using Ingest.Collector.Webhooks.Meta;
using Ingest.Collector.Webhooks.Twilio;

namespace Ingest.Collector.Webhooks;

/// <summary>
/// Call-tracking and ad-platform webhooks. Each request is verified (signature or key, constant-time) before its body is
/// interpreted; each touch gets a deterministic event id from the provider's own id, so redeliveries are stored once.
/// </summary>
public static class WebhooksApi
{
    internal const int MaxWebhookBytes = 256 * 1024;

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/webhooks")
            .WithTags("Webhooks")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapCallRail().MapTwilio().MapGoogleAds().MapMeta().MapHubSpot();
        return app;
    }

    public sealed record WebhookAccepted(string Status, IReadOnlyList<string> EventIds);

    internal static async Task<Results<Ok<WebhookAccepted>, ProblemHttpResult>> AcceptOne(
        HttpContext http, TouchIntake intake, TouchProducerOptions producer, TouchPayload payload, TouchContext context, CancellationToken cancellationToken)
    {
        var outcome = await intake.AcceptAsync(payload, context, cancellationToken);
        if (IntakeAnswers.Problem(http, outcome, producer) is { } answer)
        {
            return answer;
        }

        return TypedResults.Ok(new WebhookAccepted("accepted", [outcome.EventId!]));
    }

    /// <summary>Reads the raw body (size-capped) and checks its signature header before anything interprets it.</summary>
    internal static async ValueTask<(byte[]? Body, ProblemHttpResult? Problem)> ReadSignedAsync(
        HttpContext http, string header, Func<byte[], string?, bool> verify, CancellationToken cancellationToken)
    {
        var (body, problem) = await RequestBody.ReadBytesAsync(http.Request, MaxWebhookBytes, cancellationToken);
        if (problem is not null)
        {
            return (null, problem);
        }

        return verify(body!, http.Request.Headers[header]) ? (body, null) : (null, BadSignature(header));
    }

    internal static ProblemHttpResult NotConfigured(string provider, string setting) =>
        ProblemResponses.Problem(StatusCodes.Status404NotFound, ProblemTypes.NotFound, $"The {provider} webhook is not enabled here (set {setting}).");

    internal static ProblemHttpResult BadSignature(string header) =>
        ProblemResponses.Problem(StatusCodes.Status401Unauthorized, ProblemTypes.BadSignature, $"The {header} header is missing or does not match the body.", header);
}
