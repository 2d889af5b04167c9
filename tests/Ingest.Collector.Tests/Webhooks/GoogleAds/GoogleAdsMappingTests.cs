using System.Text.Json;
using Ingest.Collector.Webhooks.GoogleAds;
using Ingest.Core.Governance;
using Ingest.Core.Identity;
using Ingest.Core.Touches;

namespace Ingest.Collector.Tests.Webhooks.GoogleAds;

public sealed class GoogleAdsMappingTests
{
    private static readonly TouchBuilder Builder = new(new GovernanceEngine(GovernanceRules.Default), new IdentityNormalizer(), new TouchLimits());
    private static readonly DateTimeOffset ReceivedAt = new(2026, 11, 23, 10, 15, 0, TimeSpan.Zero);

    private static (TouchPayload Payload, TouchContext? Context) Map(string json)
    {
        using var document = JsonDocument.Parse(json);
        return GoogleAdsMapping.Map(document.RootElement.Clone(), new IdentityNormalizer(), ReceivedAt);
    }

    private static TouchRecord Build(string json)
    {
        var (payload, context) = Map(json);
        Assert.NotNull(context);
        var built = Builder.Build(payload, context);
        Assert.True(built.IsValid, string.Join("; ", built.Errors.Select(static e => e.Message)));
        return built.Record!;
    }

    [Fact]
    public void Map_TestLead_IsAPaidSearchAdTouchWithEmailPhoneAndAnswers()
    {
        var record = Build("""
            {
              "lead_id": "TeSt_LeAd_iD-42",
              "api_version": "1.0",
              "form_id": 40000000001,
              "campaign_id": 1234567890123456789,
              "adgroup_id": 9876543210987654321,
              "is_test": true,
              "gcl_id": "Cj0KCQiA-CaseSensitive_ID",
              "lead_submit_time": "2026-11-20T12:30:00Z",
              "user_column_data": [
                { "column_name": "Full Name", "string_value": "Grace Hopper", "column_id": "FULL_NAME" },
                { "column_name": "User Email", "string_value": "Grace@Example.com", "column_id": "EMAIL" },
                { "column_name": "User Phone", "string_value": "+1 (415) 555-0199", "column_id": "PHONE_NUMBER" },
                { "column_name": "Company", "string_value": "Navy", "column_id": "COMPANY_NAME" }
              ]
            }
            """);

        Assert.Equal(TouchKind.Ad, record.Kind);
        Assert.Equal("google_ads", record.Door);
        Assert.Equal("google_ads:TeSt_LeAd_iD-42", record.EventId);
        Assert.True(record.IsTest);
        Assert.Equal("grace@example.com", record.Identities.Email);
        Assert.Equal("+14155550199", record.Identities.Phone);
        Assert.Equal(new DateTimeOffset(2026, 11, 20, 12, 30, 0, TimeSpan.Zero), record.OccurredAt);
        Assert.Equal("google", record.Attribution.Source);
        Assert.Equal("cpc", record.Attribution.Raw.Medium);
        Assert.Equal("paid_search", record.Attribution.Medium);
        Assert.Equal("1234567890123456789", record.Attribution.Raw.Campaign);
        Assert.Equal("1234567890123456789", record.Attribution.UtmId);
        Assert.Equal("Cj0KCQiA-CaseSensitive_ID", record.Attribution.ClickId);
        Assert.Equal("gclid", record.Attribution.ClickIdParam);
        Assert.Equal("paid_search", record.Attribution.Channel);
        Assert.Equal("Grace Hopper", record.Properties!.Value.GetProperty("full_name").GetString());
        Assert.Equal("Navy", record.Properties.Value.GetProperty("company_name").GetString());
        Assert.False(record.Properties.Value.TryGetProperty("email", out _));
        Assert.Equal("google_ads", record.Provider!["provider"]);
        Assert.Equal("TeSt_LeAd_iD-42", record.Provider["lead_id"]);
        Assert.Equal("40000000001", record.Provider["form_id"]);
        Assert.Equal("9876543210987654321", record.Provider["adgroup_id"]);
    }

    [Fact]
    public void Map_UnusableEmailAndPhone_StayAnswersAndTheLeadIsKeyedByItsId()
    {
        var record = Build("""
            {
              "lead_id": "L-7",
              "user_column_data": [
                { "column_id": "EMAIL", "string_value": "not an address" },
                { "column_id": "PHONE_NUMBER", "string_value": "call me" }
              ]
            }
            """);

        Assert.Null(record.Identities.Email);
        Assert.Null(record.Identities.Phone);
        Assert.Equal("google_ads_lead:L-7", record.Identities.ExternalId);
        Assert.Equal("not an address", record.Properties!.Value.GetProperty("email").GetString());
        Assert.Equal("call me", record.Properties.Value.GetProperty("phone_number").GetString());
        Assert.False(record.IsTest);
        Assert.Equal(ReceivedAt, record.OccurredAt);
    }

    [Fact]
    public void Map_NoLeadId_HasNoContext()
    {
        var (_, context) = Map("""{"user_column_data":[{"column_id":"EMAIL","string_value":"grace@example.com"}]}""");

        Assert.Null(context);
    }
}
