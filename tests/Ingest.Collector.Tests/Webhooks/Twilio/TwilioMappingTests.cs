using Ingest.Collector.Webhooks.Twilio;
using Ingest.Core.Governance;
using Ingest.Core.Identity;
using Ingest.Core.Touches;
using Microsoft.Extensions.Primitives;

namespace Ingest.Collector.Tests.Webhooks.Twilio;

public sealed class TwilioMappingTests
{
    private static readonly TouchBuilder Builder = new(new GovernanceEngine(GovernanceRules.Default), new IdentityNormalizer(), new TouchLimits());
    private static readonly DateTimeOffset ReceivedAt = new(2026, 11, 23, 10, 15, 0, TimeSpan.Zero);

    private static (TouchPayload Payload, TouchContext? Context) Map(Dictionary<string, string> parameters) =>
        TwilioMapping.Map(parameters.ToDictionary(static p => p.Key, static p => new StringValues(p.Value)), new IdentityNormalizer(), ReceivedAt);

    private static TouchRecord Build(Dictionary<string, string> parameters)
    {
        var (payload, context) = Map(parameters);
        Assert.NotNull(context);
        var built = Builder.Build(payload, context);
        Assert.True(built.IsValid, string.Join("; ", built.Errors.Select(static e => e.Message)));
        return built.Record!;
    }

    [Fact]
    public void Map_IncomingCall_IsAnOfflineCallTouchKeyedByTheCallerInE164()
    {
        var record = Build(new()
        {
            ["CallSid"] = "CA5f3b0c1d2e3f4a5b6c7d8e9f0a1b2c3d",
            ["From"] = "+14155550123",
            ["To"] = "+14045558514",
            ["Direction"] = "inbound",
            ["CallStatus"] = "ringing",
            ["FromCity"] = "SAN FRANCISCO",
            ["CallerName"] = "",
        });

        Assert.Equal(TouchKind.Call, record.Kind);
        Assert.Equal("twilio", record.Door);
        Assert.Equal("twilio:CA5f3b0c1d2e3f4a5b6c7d8e9f0a1b2c3d", record.EventId);
        Assert.Equal("+14155550123", record.Identities.Phone);
        Assert.Null(record.Identities.ExternalId);
        Assert.Equal(ReceivedAt, record.OccurredAt);
        Assert.Equal("offline", record.Attribution.Channel);
        Assert.Equal("twilio", record.Provider!["provider"]);
        Assert.Equal("CA5f3b0c1d2e3f4a5b6c7d8e9f0a1b2c3d", record.Provider["call_sid"]);
        Assert.Equal("+14045558514", record.Provider["tracking_number"]);
        Assert.Equal("inbound", record.Provider["direction"]);
        Assert.Equal("ringing", record.Provider["call_status"]);
        Assert.Equal("SAN FRANCISCO", record.Provider["from_city"]);
        Assert.False(record.Provider.ContainsKey("caller_name"));
    }

    [Theory]
    [InlineData("client:alice")]
    [InlineData("+266696687")]
    public void Map_AnonymousOrClientCaller_IsKeptKeyedByTheCall(string from)
    {
        var record = Build(new() { ["CallSid"] = "CA01", ["From"] = from, ["To"] = "+14045558514" });

        Assert.Null(record.Identities.Phone);
        Assert.Equal("twilio_call:CA01", record.Identities.ExternalId);
        Assert.Equal("twilio:CA01", record.EventId);
    }

    [Fact]
    public void Map_NoCallSid_HasNoContext()
    {
        var (_, context) = Map(new() { ["From"] = "+14155550123" });

        Assert.Null(context);
    }
}
