using System.Text.Json;
using System.Text.Json.Serialization;
using Ingest.Core.Governance;
using Ingest.Core.Outcomes;
using Ingest.Core.Touches;

namespace Ingest.Core.Serialization;

/// <summary>Source-generated JSON for every wire type: snake_case, nulls omitted.</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DictionaryKeyPolicy = JsonKnownNamingPolicy.Unspecified,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    AllowTrailingCommas = false,
    ReadCommentHandling = JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(TouchPayload))]
[JsonSerializable(typeof(TouchRecord))]
[JsonSerializable(typeof(GovernanceResult))]
[JsonSerializable(typeof(GovernanceViolation))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(OutcomePayload))]
[JsonSerializable(typeof(OutcomeRecord))]
public sealed partial class IngestJsonContext : JsonSerializerContext;
