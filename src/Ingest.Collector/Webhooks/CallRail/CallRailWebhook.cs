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

namespace Ingest.Collector.Webhooks.CallRail;

/// <summary><c>POST /v1/webhooks/callrail</c>: call and form-submission webhooks signed with the company key.</summary>
public static class CallRailWebhook
{
    public static RouteGroupBuilder MapCallRail(this RouteGroupBuilder group)
    {
        group.MapPost("/callrail", CallRail)
            .WithName("CallRailWebhook")
            .WithSecurityScheme(OpenApiSecurity.CallRailSignature)
            .WithSummary("CallRail call and form-submission webhooks")
            .WithDescription("Signature: Base64(HMAC-SHA1(company signing key, raw body)) in the Signature header. Optional ?event=pre_call|call_routing_complete|post_call|call_modified|form_submission names the trigger; otherwise it is inferred.")
            .Accepts<JsonElement>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesFieldProblem();
        return group;
    }

    public static async Task<Results<Ok<WebhookAccepted>, ProblemHttpResult>> CallRail(
        HttpContext http, string? @event, TouchIntake intake, TimeProvider time, IdentityNormalizer normalizer, IOptions<WebhookOptions> options, IOptions<TouchProducerOptions> producer,
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

        var (body, problem) = await ReadSignedAsync(http, "Signature", (raw, signature) => CallRailSignature.IsValid(keys, raw, signature), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        JsonDocument document;
        try
        {
            document = JsonText.Parse(body);
        }
        catch (JsonException ex)
        {
            return RequestBody.Malformed(ex);
        }

        using (document)
        {
            var (payload, context) = CallRailMapping.Map(document.RootElement, trigger, normalizer, time.GetUtcNow());
            if (context is null)
            {
                return ProblemResponses.Validation([new FieldError("resource_id", "missing_resource_id", "resource_id (or id) is required to identify the call or form.")]);
            }

            return await AcceptOne(http, intake, producer.Value, payload, context, cancellationToken);
        }
    }
}
