using System.Text.Json.Nodes;
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
        [typeof(FieldError)] = """{"field":"email","code":"invalid_email","message":"email is not a valid address."}""",
    };

    public static OpenApiOptions Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer(static (document, _, _) =>
        {
            // The document must not depend on the host that served it (openapi.yaml is compared byte for byte).
            document.Servers?.Clear();
            document.Info.Title = "Ingest";
            document.Info.Description =
                "Lead-source touch ingestion: website forms, call tracking and ad-platform leads in; lead timelines and channel reports out. "
                + "Errors are RFC 7807 application/problem+json with a stable type, a title and the offending field.";
            return Task.CompletedTask;
        });
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

            return Task.CompletedTask;
        });
        return options;
    }

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
