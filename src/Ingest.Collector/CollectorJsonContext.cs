using System.Text.Json;
using System.Text.Json.Serialization;
using Ingest.Collector.Touches;
using Ingest.Core.Touches;

namespace Ingest.Collector;

/// <summary>Source-generated JSON for the collector's HTTP types (snake_case, nulls omitted).</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(TouchAccepted))]
[JsonSerializable(typeof(Ingest.Collector.Browser.AnonymousIdBody))]
[JsonSerializable(typeof(BatchResult))]
[JsonSerializable(typeof(BatchRequest))]
[JsonSerializable(typeof(Ingest.Collector.Outcomes.OutcomeAccepted))]
[JsonSerializable(typeof(Ingest.Collector.Outcomes.OutcomeBatchRequest))]
[JsonSerializable(typeof(FieldError))]
[JsonSerializable(typeof(Ingest.Collector.Uploads.UploadResult))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Ingest.Collector.Webhooks.WebhooksApi.WebhookAccepted))]
[JsonSerializable(typeof(Ingest.Storage.Leads.LeadView))]
[JsonSerializable(typeof(Ingest.Storage.Leads.ChannelReport))]
[JsonSerializable(typeof(Ingest.Collector.Attribution.LeadAttribution))]
[JsonSerializable(typeof(Ingest.Collector.Attribution.AttributionReport))]
[JsonSerializable(typeof(Ingest.Storage.Reports.FunnelReport))]
[JsonSerializable(typeof(Ingest.Storage.Reports.SpeedToLeadReport))]
[JsonSerializable(typeof(Ingest.Storage.Reports.SelfReportedReport))]
[JsonSerializable(typeof(Ingest.Storage.Governance.ReclassifyReport))]
[JsonSerializable(typeof(IReadOnlyList<FieldError>))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
[JsonSerializable(typeof(Ingest.Collector.Problems.FieldProblem))]
public sealed partial class CollectorJsonContext : JsonSerializerContext;
