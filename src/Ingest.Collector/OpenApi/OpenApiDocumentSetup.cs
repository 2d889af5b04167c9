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
        [typeof(Ingest.Storage.Reports.SpeedToLeadReport)] = """
            {"from":"2026-11-01T00:00:00+00:00","to":"2026-12-01T00:00:00+00:00","group_by":"channel",
             "groups":[{"group":"paid_search","leads":2,"responded":2,"median_minutes":24,"p90_minutes":45,"within5_minutes":0.5,"within1_hour":1,
               "within24_hours":1,"never":0,"buckets":[{"bucket":"5m","leads":1,"sql_rate":1,"customer_rate":1},{"bucket":"1h","leads":1,"sql_rate":1,"customer_rate":0}]}],
             "totals":{"group":"total","leads":4,"responded":3,"median_minutes":45,"p90_minutes":1440,"within5_minutes":0.25,"within1_hour":0.5,
               "within24_hours":0.75,"never":0.25,"buckets":[{"bucket":"5m","leads":1,"sql_rate":1,"customer_rate":1},{"bucket":"never","leads":1,"sql_rate":0,"customer_rate":0}]},
             "coverage":{"leads":4,"consent_granted":0.5,"unattributed":0.25,"governance_violations":0.25,"self_reported":0.75,"directional":true}}
            """,
        [typeof(Ingest.Storage.Reports.FunnelReport)] = """
            {"from":"2026-11-01T00:00:00+00:00","to":"2026-12-01T00:00:00+00:00","touch":"first","group_by":"channel","taxonomy":"b2b","currency":"USD",
             "groups":[{"group":"paid_search","leads":2,"mql":2,"sql":2,"opportunity":1,"customer":1,
               "conversion":{"lead_to_mql":1,"mql_to_sql":1,"sql_to_opportunity":0.5,"opportunity_to_customer":1,"lead_to_customer":0.5},
               "won_deals":1,"revenue":1000,"avg_deal_size":1000,"win_rate":0.5,"median_days_to_customer":10,
               "median_days_between":{"lead_to_mql":1,"mql_to_sql":2,"sql_to_opportunity":5,"opportunity_to_customer":2},
               "cost":250,"cost_per_lead":125,"cost_per_sql":125,"cost_per_customer":250,"roas":4}],
             "totals":{"group":"total","leads":4,"mql":3,"sql":3,"opportunity":2,"customer":2,
               "conversion":{"lead_to_mql":0.75,"mql_to_sql":1,"sql_to_opportunity":0.6667,"opportunity_to_customer":1,"lead_to_customer":0.5},
               "won_deals":2,"revenue":1550,"avg_deal_size":775,"win_rate":0.6667,"median_days_to_customer":9.25,
               "median_days_between":{"lead_to_mql":1,"mql_to_sql":2,"sql_to_opportunity":5,"opportunity_to_customer":2},
               "cost":250,"cost_per_lead":62.5,"cost_per_sql":83.33,"cost_per_customer":125,"roas":6.2},
             "unconverted_deals":0,"coverage":{"leads":4,"consent_granted":0.5,"unattributed":0.25,"governance_violations":0.25,"self_reported":0.75,"directional":true},
             "unconverted_costs":[{"currency":"GBP","amount":50}]}
            """,
        [typeof(Ingest.Collector.Costs.CostUploadRow)] = """{"date":"2026-11-02","source":"Google","medium":"CPC","campaign":"Brand","amount":120.5,"currency":"USD"}""",
        [typeof(Ingest.Collector.Uploads.UploadResult)] = """
            {"accepted":1,"rejected":1,"unavailable":0,"rows":[
              {"row":1,"line":2,"status":"stored","cost":{"date":"2026-11-02","source":"google","medium":"paid_search","campaign":"brand","channel":"paid_search"}},
              {"row":2,"line":3,"status":"rejected","errors":[{"field":"amount","code":"negative_amount","message":"amount must not be negative."}]}]}
            """,
        [typeof(Ingest.Storage.Reports.SelfReportedReport)] = """
            {"from":"2026-11-01T00:00:00+00:00","to":"2026-12-01T00:00:00+00:00","taxonomy":"b2b","leads":4,"answered":3,
             "channels":[{"channel":"paid_search","leads":2,"answered":2,"answers":[{"answer":"facebook","leads":1},{"answer":"google","leads":1}]},
               {"channel":"direct","leads":1,"answered":1,"answers":[{"answer":"podcast","leads":1}]}],
             "answers":[{"answer":"facebook","leads":1},{"answer":"google","leads":1},{"answer":"podcast","leads":1}],
             "coverage":{"leads":4,"consent_granted":0.5,"unattributed":0.25,"governance_violations":0.25,"self_reported":0.75,"directional":true}}
            """,
        // docs/attribution.md's worked example (the fixture of AttributionOutcomeTests): revenue at customer in March.
        [typeof(Ingest.Collector.Attribution.AttributionReport)] = """
            {"from":"2026-03-01T00:00:00+00:00","to":"2026-04-01T00:00:00+00:00","conversion":"customer","value":"revenue","currency":"USD","taxonomy":"b2b",
             "group_by":"channel","lookback_days":90,"conversions":2,"total":1530,"unconverted_deals":0,
             "models":{"full_path":[{"group":"paid_social","credit":990,"share":0.6470588},{"group":"paid_search","credit":270,"share":0.1764706},
                 {"group":"direct","credit":135,"share":0.0882353},{"group":"email","credit":135,"share":0.0882353}],
               "linear":[{"group":"paid_social","credit":1050,"share":0.6862745},{"group":"paid_search","credit":240,"share":0.1568627},
                 {"group":"direct","credit":120,"share":0.0784314},{"group":"email","credit":120,"share":0.0784314}]}}
            """,
        // The same fixture's lead P at sql: its opportunity (Mar 10) comes after the conversion, so no touch holds that role.
        [typeof(Ingest.Collector.Attribution.LeadAttribution)] = """
            {"lead_id":"0193a4f2-7c1e-7a3b-9d2e-5f8a1b2c3d4e","conversion":"sql","taxonomy":"b2b","converted_at":"2026-03-01T10:00:00+00:00","lookback_days":90,
             "touches":[
               {"event_id":"ap-1","kind":"visit","occurred_at":"2026-02-01T10:00:00+00:00","channel":"paid_search","ga4_channel":"Paid Search","source":"google",
                "medium":"paid_search","campaign":"brand","roles":["first"],"weights":{"time_decay":0.0999929,"w_shaped":0.45}},
               {"event_id":"ap-2","kind":"form","occurred_at":"2026-02-10T10:00:00+00:00","channel":"email","ga4_channel":"Email","source":"newsletter",
                "medium":"email","campaign":"feb","roles":["lead_creation"],"weights":{"time_decay":0.2437854,"w_shaped":0.45}},
               {"event_id":"ap-3","kind":"visit","occurred_at":"2026-02-20T10:00:00+00:00","channel":"paid_social","ga4_channel":"Paid Social","source":"linkedin",
                "medium":"paid_social","campaign":"abm","roles":["last"],"weights":{"time_decay":0.6562217,"w_shaped":0.1}}],
             "left_out":[{"event_id":"ap-4","kind":"visit","occurred_at":"2026-03-05T10:00:00+00:00","reason":"after_conversion"},
               {"event_id":"ap-5","kind":"visit","occurred_at":"2026-03-22T10:00:00+00:00","reason":"after_conversion"}]}
            """,
        // ReclassifyTests' fixture applied: the shipped rules know chatgpt.com and chat.openai.com as AI assistants, the rules the touches were stored under did not.
        [typeof(Ingest.Storage.Governance.ReclassifyReport)] = """
            {"rules_version":"2026-11-23+5610ef324926","dry_run":false,"touches_scanned":6,"touches_changed":3,"touches_stamped":3,"touches_skipped":0,
             "leads_first_changed":2,"leads_latest_changed":2,"leads_created_changed":1,"leads_skipped":0,
             "channels":[{"channel":"ai_search","before":0,"after":3},{"channel":"direct","before":1,"after":1},{"channel":"paid_search","before":2,"after":2},{"channel":"referral","before":3,"after":0}],
             "batches":1}
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

    private static readonly Dictionary<string, string> CsvExamples = new()
    {
        ["PostCosts"] = "date,source,medium,campaign,amount,currency\n2026-11-02,Google,CPC,Brand,120.50,USD\n2026-11-02,LinkedIn,paid social,abm_q4,80,EUR\n",
        ["ImportTouches"] = "occurred_at,email,phone,external_id,event_code,source,medium,campaign,booth\n"
            + "2026-06-10T15:00:00Z,grace@example.com,,,SAASTR26,,,,B12\n2026-06-10T16:00:00Z,,+1 415 555 0101,,,fair,events,fall_fair,\n",
    };

    private static readonly Dictionary<string, string> TagDescriptions = new()
    {
        ["Browser"] = "The ingest.js snippet and the browser door: touches from web pages (write key in the query or body, allowed origins only) and the first-party id cookie.",
        ["Forms"] = "HTML form posts straight from a page, checked against each form's allowed origins.",
        ["Touches"] = "Touches from scripts and integrations, one or a batch, with a write key.",
        ["Governance"] = "What the governance rules make of a URL or a set of UTM fields, without storing anything (read key); the stored touches reclassified under the rules in force (read key: dry run; server key: apply).",
        ["Webhooks"] = "Call-tracking, ad-platform and CRM (HubSpot lifecycle stages) webhooks, each verified by its provider's signature or key before its body is read.",
        ["Outcomes"] = "What became of leads, from CRM workflows and sales tools (server key): lifecycle stages, deals and sales responses.",
        ["Costs"] = "Daily spend per source, medium and campaign (server key), normalized by the governance rules like touches; the funnel report weighs it against leads and revenue.",
        ["Imports"] = "Offline touches from files (server key): badge scans, trade-show lists, manual entries, through Kafka and the worker like every touch.",
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
        options.AddOperationTransformer(static (operation, _, _) =>
        {
            // A CSV body is text, not the JSON rows it documents: a string with an example file.
            if (operation.RequestBody?.Content?.TryGetValue("text/csv", out var csv) == true && csv is OpenApiMediaType media)
            {
                media.Schema = new OpenApiSchema { Type = JsonSchemaType.String };
                media.Example = CsvExamples.TryGetValue(operation.OperationId ?? "", out var example) ? JsonValue.Create(example)
                    : throw new InvalidOperationException($"Operation '{operation.OperationId}' takes text/csv without an example; add it to {nameof(OpenApiDocumentSetup)}.{nameof(CsvExamples)}.");
            }

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
