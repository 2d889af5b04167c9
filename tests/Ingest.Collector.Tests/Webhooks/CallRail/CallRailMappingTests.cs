using System.Text.Json;
using Ingest.Collector.Webhooks.CallRail;
using Ingest.Core.Governance;
using Ingest.Core.Identity;
using Ingest.Core.Touches;

namespace Ingest.Collector.Tests.Webhooks.CallRail;

public sealed class CallRailMappingTests
{
    private static readonly TouchBuilder Builder = new(new GovernanceEngine(GovernanceRules.Default), new IdentityNormalizer(), new TouchLimits());
    private static readonly DateTimeOffset ReceivedAt = new(2026, 11, 23, 10, 15, 0, TimeSpan.Zero);

    private const string AnsweredCall = """
        {
          "resource_id": "CAL8154748ae6bd4e278a7cddd38a662f4f",
          "person_resource_id": "PER8154748ae6bd4e278a7cddd38a662f4f",
          "answered": true,
          "duration": "95",
          "direction": "inbound",
          "call_type": "answered",
          "start_time": "2026-11-20T09:30:00.000-05:00",
          "customer_phone_number": "(415) 555-0123",
          "tracking_phone_number": "+14045558514",
          "landing_page_url": "https://example.com/pricing",
          "referring_url": "Radio Ad",
          "utm_source": "google",
          "utm_medium": "cpc",
          "utm_campaign": "spring-launch",
          "gclid": "Cj0KCQiA-CaseSensitive_ID"
        }
        """;

    private static (TouchPayload Payload, TouchContext? Context) Map(string json, string? trigger = null)
    {
        using var document = JsonDocument.Parse(json);
        return CallRailMapping.Map(document.RootElement.Clone(), trigger, new IdentityNormalizer(), ReceivedAt);
    }

    private static TouchRecord Build(string json, string? trigger = null)
    {
        var (payload, context) = Map(json, trigger);
        Assert.NotNull(context);
        var built = Builder.Build(payload, context);
        Assert.True(built.IsValid, string.Join("; ", built.Errors.Select(static e => e.Message)));
        return built.Record!;
    }

    [Fact]
    public void Map_AnsweredCall_IsAPaidSearchCallTouchKeyedByTheCallerInE164()
    {
        var record = Build(AnsweredCall);

        Assert.Equal(TouchKind.Call, record.Kind);
        Assert.Equal("callrail", record.Door);
        Assert.Equal("callrail:CAL8154748ae6bd4e278a7cddd38a662f4f:post_call", record.EventId);
        Assert.Equal("+14155550123", record.Identities.Phone);
        Assert.Null(record.Identities.Email);
        Assert.Null(record.Identities.ExternalId);
        Assert.Equal(new DateTimeOffset(2026, 11, 20, 14, 30, 0, TimeSpan.Zero), record.OccurredAt);
        Assert.Equal("https://example.com/pricing", record.PageUrl);
        Assert.Equal("google", record.Attribution.Raw.Source);
        Assert.Equal("cpc", record.Attribution.Raw.Medium);
        Assert.Equal("spring-launch", record.Attribution.Raw.Campaign);
        Assert.Equal("google", record.Attribution.Source);
        Assert.Equal("paid_search", record.Attribution.Medium);
        Assert.Equal("Cj0KCQiA-CaseSensitive_ID", record.Attribution.ClickId);
        Assert.Equal("google_ads", record.Attribution.ClickNetwork);
        Assert.Equal("paid_search", record.Attribution.Channel);
        Assert.Equal("callrail", record.Provider!["provider"]);
        Assert.Equal("post_call", record.Provider["event"]);
        Assert.Equal("95", record.Provider["duration"]);
        Assert.Equal("+14045558514", record.Provider["tracking_phone_number"]);
    }

    [Fact]
    public void Map_ReferringUrlIsALabel_IsNoReferrer()
    {
        var (payload, _) = Map(AnsweredCall);

        Assert.Null(payload.Referrer);
    }

    [Theory]
    [InlineData("pre_call")]
    [InlineData("call_modified")]
    public void Map_TriggerNamedByTheQuery_IsPartOfTheEventId(string trigger)
    {
        var record = Build(AnsweredCall, trigger);

        Assert.Equal($"callrail:CAL8154748ae6bd4e278a7cddd38a662f4f:{trigger}", record.EventId);
        Assert.Equal(trigger, record.Provider!["event"]);
    }

    [Theory]
    [InlineData("""{"resource_id":"CAL1","call_type":"missed","answered":false,"duration":"0"}""", "pre_call")]
    [InlineData("""{"resource_id":"CAL1","call_type":"missed","answered":false,"duration":"0","recording":"https://app.callrail.com/r/1"}""", "post_call")]
    [InlineData("""{"resource_id":"CAL1","answered":true,"duration":"42","changes":["tags"]}""", "call_modified")]
    [InlineData("""{"resource_id":"CAL1","direction":"outbound","answered":true,"duration":"42"}""", "outbound_post_call")]
    [InlineData("""{"resource_id":"CAL1","direction":"outbound","changes":["note"]}""", "outbound_call_modified")]
    public void Map_NoTriggerInTheQuery_InfersItFromThePayload(string json, string trigger)
    {
        var (_, context) = Map(json);

        Assert.Equal($"callrail:CAL1:{trigger}", context!.DerivedEventId);
    }

    [Fact]
    public void Map_PublishedSamplePayload_UsesTheNumericIdAndCallerNumber()
    {
        var record = Build("""
            {"answered":false,"call_type":"voicemail","customer_phone_number":"+12148654559","direction":"inbound","duration":"13","id":766970532,
             "recording":"https://app.callrail.com/calls/766970532/recording/redirect","start_time":"2018-02-19T13:41:00.236-05:00",
             "utm_source":"google","utm_medium":"cpc","utm_campaign":"Google AdWords","gclid":"","referring_url":"","landing_page_url":""}
            """);

        Assert.Equal("callrail:766970532:post_call", record.EventId);
        Assert.Equal("+12148654559", record.Identities.Phone);
        Assert.Equal(new DateTimeOffset(2018, 2, 19, 18, 41, 0, 236, TimeSpan.Zero), record.OccurredAt);
        Assert.Equal("Google AdWords", record.Attribution.Raw.Campaign);
        Assert.Null(record.Attribution.ClickId);
        Assert.Null(record.PageUrl);
    }

    [Fact]
    public void Map_FormSubmission_IsAFormTouchWithItsEmailPhoneAndFields()
    {
        var record = Build("""
            {
              "resource_id": "FRM0cc2e0e4e0d04a5f8d1c1e6c3b4a5d6e",
              "submitted_at": "2026-11-21T16:05:00Z",
              "form_url": "https://example.com/contact?utm_source=linkedin",
              "utm_source": "linkedin",
              "utm_medium": "paid_social",
              "utm_campaign": "q4-webinar",
              "form_data": { "Email": " Ada@Example.COM ", "phone_number": "415-555-0199", "company": "Analytical Engines" }
            }
            """);

        Assert.Equal(TouchKind.Form, record.Kind);
        Assert.Equal("callrail", record.Door);
        Assert.Equal("callrail:FRM0cc2e0e4e0d04a5f8d1c1e6c3b4a5d6e:form_submission", record.EventId);
        Assert.Equal("ada@example.com", record.Identities.Email);
        Assert.Equal("+14155550199", record.Identities.Phone);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 16, 5, 0, TimeSpan.Zero), record.OccurredAt);
        Assert.Equal("https://example.com/contact?utm_source=linkedin", record.PageUrl);
        Assert.Equal("linkedin", record.Attribution.Source);
        Assert.Equal("paid_social", record.Attribution.Medium);
        Assert.Equal("q4-webinar", record.Attribution.Campaign);
        Assert.Equal("paid_social", record.Attribution.Channel);
        Assert.Equal("Analytical Engines", record.Properties!.Value.GetProperty("company").GetString());
        Assert.Equal("form_submission", record.Provider!["event"]);
    }

    [Fact]
    public void Map_WithheldCaller_IsKeptKeyedByCallRailsPerson()
    {
        var record = Build("""{"resource_id":"CAL2","person_resource_id":"PER2","answered":true,"duration":"30"}""");

        Assert.Null(record.Identities.Phone);
        Assert.Equal("callrail:PER2", record.Identities.ExternalId);
        Assert.Equal("external:callrail:PER2", TouchBuilder.PartitionKey(record));
    }

    [Fact]
    public void Map_WithheldCallerWithoutPerson_IsKeyedByTheCall()
    {
        var record = Build("""{"resource_id":"CAL3","answered":true,"duration":"30"}""");

        Assert.Equal("callrail:CAL3", record.Identities.ExternalId);
    }

    [Fact]
    public void Map_NoResourceIdNorId_HasNoContext()
    {
        var (_, context) = Map("""{"customer_phone_number":"+14155550123","duration":"30"}""");

        Assert.Null(context);
    }
}
