using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Ingest.Core.Governance;

/// <summary>
/// The digest of a rules file's normalized content: the parsed document as JSON with every object's keys sorted (so
/// comments, formatting and key order do not count), the taxonomy in force (<c>Governance:Taxonomy</c> may override the
/// file's) and the built-in GA4 source list the channels are read against. Two rule sets with one digest classify
/// every touch alike; reclassification compares it to the version stamped on each stored touch.
/// </summary>
internal static class RulesDigest
{
    /// <summary>The document's normalized form; <see cref="Of"/> adds the taxonomy in force.</summary>
    public static JsonObject Normalize(GovernanceRulesDocument document) =>
        Sorted(JsonSerializer.SerializeToNode(document, RulesDocumentJsonContext.Default.GovernanceRulesDocument)!).AsObject();

    /// <summary>First 12 hex digits (lower case) of the SHA-256 of the normalized document under <paramref name="taxonomy"/>.</summary>
    public static string Of(JsonObject normalized, string taxonomy, ReadOnlySpan<byte> ga4SourcesSha256)
    {
        var document = normalized.DeepClone().AsObject();
        document["channels"]!["taxonomy"] = taxonomy;
        var json = Encoding.UTF8.GetBytes(document.ToJsonString());
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(json);
        sha.AppendData(ga4SourcesSha256);
        return Convert.ToHexStringLower(sha.GetHashAndReset().AsSpan(0, 6));
    }

    private static JsonNode Sorted(JsonNode node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(static p => p.Key, StringComparer.Ordinal)
            .Select(static p => KeyValuePair.Create(p.Key, p.Value is null ? null : Sorted(p.Value)))),
        JsonArray array => new JsonArray([.. array.Select(static v => v is null ? null : Sorted(v))]),
        _ => node.DeepClone(),
    };
}

/// <summary>The rules document as JSON, for its digest only.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(GovernanceRulesDocument))]
internal sealed partial class RulesDocumentJsonContext : JsonSerializerContext;
