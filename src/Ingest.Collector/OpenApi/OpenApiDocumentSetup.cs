using System.Text.Json.Nodes;
using Ingest.Collector.Problems;
using Ingest.Collector.Touches;
using Ingest.Core.Touches;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Ingest.Collector.OpenApi;

/// <summary>Document-level settings and examples for the generated OpenAPI document (checked in as openapi.yaml).</summary>
public static class OpenApiDocumentSetup
{
    private static readonly Dictionary<Type, string> Examples = new()
    {
        [typeof(TouchPayload)] = """
            {"event_id":"0193a4f2-7c1e-7a3b-9d2e-5f8a1b2c3d4e","kind":"form","occurred_at":"2026-11-23T10:15:00Z",
             "anonymous_id":"a1b2c3","email":"ada@example.com","phone":"+1 415 555 0100",
             "page_url":"https://www.example.com/pricing?utm_source=google&utm_medium=cpc&utm_campaign=brand_q4&gclid=Cj0KCQiA",
             "referrer":"https://www.google.com/","consent":{"analytics":true,"ads":true},"properties":{"form_id":"demo-request"}}
            """,
        [typeof(TouchAccepted)] = """{"event_id":"0193a4f2-7c1e-7a3b-9d2e-5f8a1b2c3d4e","status":"accepted"}""",
        [typeof(BatchResult)] = """
            {"accepted":1,"rejected":1,"unavailable":0,"results":[
              {"index":0,"event_id":"0193a4f2-7c1e-7a3b-9d2e-5f8a1b2c3d4e","status":"accepted"},
              {"index":1,"status":"rejected","errors":[{"field":"identities","code":"no_identity","message":"A touch needs at least one identity: anonymous_id, email, phone, external_id or a click id."}]}]}
            """,
        [typeof(Ingest.Core.Outcomes.OutcomePayload)] = """
            {"type":"deal","occurred_at":"2026-11-23T10:15:00Z","source_system":"hubspot","email":"ada@example.com","owner":"rep-7",
             "deal_id":"D-1042","amount":12000,"currency":"USD","status":"won"}
            """,
        [typeof(Ingest.Collector.Outcomes.OutcomeAccepted)] = """{"event_id":"5b0f6c1e-2a4d-8c3b-9e1f-0a2b3c4d5e6f","status":"accepted"}""",
        [typeof(FieldError)] = """{"field":"email","code":"invalid_email","message":"email is not a valid address."}""",
        [typeof(FieldProblem)] = """
            {"type":"https://ingest.dev/problems/validation","title":"One or more fields are invalid","status":422,
             "detail":"email is not a valid address.","field":"email",
             "errors":[{"field":"email","code":"invalid_email","message":"email is not a valid address."}]}
            """,
    };

    private static readonly Dictionary<string, string> TagDescriptions = new()
    {
        ["Browser"] = "The ingest.js snippet and the browser door: touches from web pages (write key in the query or body, allowed origins only) and the first-party id cookie.",
        ["Forms"] = "HTML form posts straight from a page, checked against each form's allowed origins.",
        ["Touches"] = "Touches from scripts and integrations, one or a batch, with a write key.",
        ["Governance"] = "What the governance rules make of a URL or a set of UTM fields, without storing anything (read key).",
        ["Webhooks"] = "Call-tracking, ad-platform and CRM (HubSpot lifecycle stages) webhooks, each verified by its provider's signature or key before its body is read.",
        ["Outcomes"] = "What became of leads, from CRM workflows and sales tools (server key): lifecycle stages, deals and sales responses.",
        ["Leads"] = "A lead's first, latest and lead-creation touch, identities and timeline, and its attribution explained (read key).",
        ["Reports"] = "Leads per channel by first, latest or lead-creation touch; the funnel and source quality (milestones, revenue, win rate, sales cycle) and speed-to-lead of the leads created in a period; attribution models side by side; visitors are not counted (read key).",
    };

    public static OpenApiOptions Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer(static (document, _, _) =>
        {
            // The document must not depend on the host that served it (openapi.yaml is compared byte for byte): a relative
            // server means "wherever this document was fetched from".
            document.Servers = [new OpenApiServer { Url = "/", Description = "The collector that serves this document." }];
            document.Info.Title = "Ingest";
            document.Info.Description =
                "Lead-source touch ingestion: website forms, call tracking and ad-platform leads in; lead timelines and channel reports out. "
                + "Errors are RFC 7807 application/problem+json with a stable type, a title and the offending field.";
            foreach (var tag in document.Tags ?? new HashSet<OpenApiTag>())
            {
                tag.Description = TagDescriptions.TryGetValue(tag.Name ?? "", out var description)
                    ? description
                    : throw new InvalidOperationException($"Tag '{tag.Name}' has no description; add it to {nameof(OpenApiDocumentSetup)}.{nameof(TagDescriptions)}.");
            }

            // Again over the finished components: a nullable reference (oneOf null | $ref) is only complete here.
            foreach (var schema in document.Components?.Schemas?.Values ?? [])
            {
                if (schema is OpenApiSchema concrete)
                {
                    DropNullableFromRequired(concrete);
                }
            }

            return Task.CompletedTask;
        });
        options.AddOperationTransformer(OpenApiSecurity.ApplyAsync);
        options.AddSchemaTransformer(static (schema, context, _) =>
        {
            if (Examples.TryGetValue(context.JsonTypeInfo.Type, out var example))
            {
                schema.Examples = [JsonNode.Parse(example)!];
            }

            if (context.JsonTypeInfo.Type == typeof(TouchPayload))
            {
                AddClickIds(schema);
            }

            DropNullableFromRequired(schema);

            return Task.CompletedTask;
        });
        return options;
    }

    // The wire omits null properties (JsonIgnoreCondition.WhenWritingNull), so a nullable property is never required.
    private static void DropNullableFromRequired(OpenApiSchema schema)
    {
        if (schema.Required is not { Count: > 0 } required || schema.Properties is null)
        {
            return;
        }

        foreach (var (name, property) in schema.Properties)
        {
            if (IsNullable(property))
            {
                required.Remove(name);
            }
        }
    }

    private static bool IsNullable(IOpenApiSchema schema) =>
        schema.Type?.HasFlag(JsonSchemaType.Null) == true || schema.OneOf?.Any(static s => s.Type == JsonSchemaType.Null) == true;

    // Click ids reach TouchPayload as extension data (their names live in click-ids.json only): list them after utm_id.
    private static void AddClickIds(OpenApiSchema schema)
    {
        var properties = new Dictionary<string, IOpenApiSchema>();
        foreach (var (name, property) in schema.Properties ?? new Dictionary<string, IOpenApiSchema>())
        {
            properties[name] = property;
            if (name == "utm_id")
            {
                foreach (var clickId in ClickIds.Names)
                {
                    properties[clickId] = new OpenApiSchema { Type = JsonSchemaType.Null | JsonSchemaType.String };
                }
            }
        }

        schema.Properties = properties;
    }
}
