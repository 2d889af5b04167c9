using System.Text.Json;
using Ingest.Collector.Webhooks.Meta;
using Ingest.Core.Governance;
using Ingest.Core.Identity;
using Ingest.Core.Touches;

namespace Ingest.Collector.Tests.Webhooks.Meta;

public sealed class MetaMappingTests
{
    private static readonly TouchBuilder Builder = new(new GovernanceEngine(GovernanceRules.Default), new IdentityNormalizer(), new TouchLimits());
    private static readonly DateTimeOffset ReceivedAt = new(2026, 11, 23, 10, 15, 0, TimeSpan.Zero);

    private static List<(TouchPayload Payload, TouchContext Context)> Map(string json)
    {
        using var document = JsonDocument.Parse(json);
        return MetaMapping.Map(document.RootElement.Clone(), ReceivedAt);
    }

    private static TouchRecord Build((TouchPayload Payload, TouchContext Context) lead)
    {
        var built = Builder.Build(lead.Payload, lead.Context);
        Assert.True(built.IsValid, string.Join("; ", built.Errors.Select(static e => e.Message)));
        return built.Record!;
    }

    [Fact]
    public void Map_LeadgenNotification_EachLeadIsAPaidSocialAdTouchAwaitingEnrichment()
    {
        var leads = Map("""
            {"object":"page","entry":[{"id":"153125381133","time":1732300000,"changes":[
              {"field":"leadgen","value":{"leadgen_id":"444444444444","page_id":"153125381133","form_id":"1234567890","ad_id":"120201234567890123","created_time":1732290000}},
              {"field":"leadgen","value":{"leadgen_id":444444444445,"page_id":153125381133,"form_id":1234567890,"created_time":1732290060}},
              {"field":"feed","value":{"item":"status"}}
            ]}]}
            """);

        Assert.Equal(2, leads.Count);
        var first = Build(leads[0]);
        Assert.Equal(TouchKind.Ad, first.Kind);
        Assert.Equal("meta", first.Door);
        Assert.Equal("meta:444444444444", first.EventId);
        Assert.Equal("meta_lead:444444444444", first.Identities.ExternalId);
        Assert.Null(first.Identities.Email);
        Assert.True(first.AwaitingEnrichment);
        Assert.Equal(new DateTimeOffset(2024, 11, 22, 15, 40, 0, TimeSpan.Zero), first.OccurredAt);
        Assert.Equal("facebook", first.Attribution.Source);
        Assert.Equal("paid_social", first.Attribution.Medium);
        Assert.Equal("meta_form_1234567890", first.Attribution.Campaign);
        Assert.Equal("paid_social", first.Attribution.Channel);
        Assert.Equal("meta", first.Provider!["provider"]);
        Assert.Equal("120201234567890123", first.Provider["ad_id"]);

        var second = Build(leads[1]);
        Assert.Equal("meta:444444444445", second.EventId);
        Assert.Equal("153125381133", second.Provider!["page_id"]);
        Assert.Equal(new DateTimeOffset(2024, 11, 22, 15, 41, 0, TimeSpan.Zero), second.OccurredAt);
    }

    [Fact]
    public void Map_LeadWithoutFormId_HasNoCampaign()
    {
        var lead = Build(Map("""{"entry":[{"changes":[{"field":"leadgen","value":{"leadgen_id":"555"}}]}]}""").Single());

        Assert.Equal("meta:555", lead.EventId);
        Assert.Null(lead.Attribution.Raw.Campaign);
        Assert.Equal(ReceivedAt, lead.OccurredAt);
    }

    [Fact]
    public void Map_NoEntryArray_IsMalformed()
    {
        Assert.Throws<JsonException>(() => Map("""{"object":"page"}"""));
    }
}
