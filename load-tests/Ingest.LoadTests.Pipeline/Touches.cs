using System.Text.Json;
using Ingest.Core.Governance;
using Ingest.Core.Identity;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;

namespace Ingest.LoadTests.Pipeline;

/// <summary>A touch built exactly as the collector builds it, with the bytes the collector would put on Kafka.</summary>
internal sealed record BuiltTouch(TouchRecord Record, byte[] Json, byte[] Key);

/// <summary>Turns generated bodies into records with the collector's own builder (validation, identities, governance).</summary>
internal static class Touches
{
    private static readonly TouchBuilder Builder = new(new GovernanceEngine(GovernanceRules.Default), new IdentityNormalizer(), new TouchLimits());

    public static BuiltTouch Build(string body)
    {
        var payload = JsonSerializer.Deserialize(body, IngestJsonContext.Default.TouchPayload)!;
        var built = Builder.Build(payload, new TouchContext { Door = "api", ReceivedAt = DateTimeOffset.UtcNow });
        if (built.Record is not { } record)
        {
            throw new InvalidOperationException("generated touch is invalid: " + built.Errors[0].Message);
        }

        return new BuiltTouch(record, JsonSerializer.SerializeToUtf8Bytes(record, IngestJsonContext.Default.TouchRecord),
            System.Text.Encoding.UTF8.GetBytes(TouchBuilder.PartitionKey(record)));
    }
}
