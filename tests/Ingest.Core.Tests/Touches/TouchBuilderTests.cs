using System.Text.Json;
using Ingest.Core.Governance;
using Ingest.Core.Identity;
using Ingest.Core.Touches;

namespace Ingest.Core.Tests.Touches;

public sealed class TouchBuilderTests
{
    private static readonly TouchBuilder Builder = new(new GovernanceEngine(GovernanceRules.Default), new IdentityNormalizer(), new TouchLimits());
    private static readonly DateTimeOffset ReceivedAt = new(2026, 11, 23, 10, 15, 0, TimeSpan.Zero);
    private static readonly TouchContext Api = new() { Door = "api", ReceivedAt = ReceivedAt };

    private static TouchRecord Valid(TouchPayload payload, TouchContext? context = null)
    {
        var built = Builder.Build(payload, context ?? Api);
        Assert.True(built.IsValid, string.Join("; ", built.Errors.Select(static e => e.Message)));
        Assert.Empty(built.Errors);
        return built.Record!;
    }

    private static FieldError Invalid(TouchPayload payload, TouchContext? context = null)
    {
        var built = Builder.Build(payload, context ?? Api);
        Assert.False(built.IsValid);
        Assert.Null(built.Record);
        return Assert.Single(built.Errors);
    }

    [Fact]
    public void Build_ApiTouch_NormalizesIdentitiesTimeAndAttribution()
    {
        var payload = new TouchPayload
        {
            EventId = "  evt-0001 ",
            Kind = " Form ",
            OccurredAt = "2026-11-23T11:10:00+01:00",
            Email = "  Ada@Example.COM ",
            Phone = "(415) 555-0123",
            AnonymousId = " anon-1 ",
            PageUrl = "https://example.com/pricing?utm_source=google",
            UtmSource = "Google",
            UtmMedium = "cpc",
            UtmCampaign = "spring-launch",
            SelfReportedSource = "A podcast",
        };
        payload.AddClickId("gclid", "  Cj0KCQiA-CaseSensitive_ID ");

        var record = Valid(payload);

        Assert.Equal("evt-0001", record.EventId);
        Assert.Equal(TouchKind.Form, record.Kind);
        Assert.Equal("api", record.Door);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 10, 10, 0, TimeSpan.Zero), record.OccurredAt);
        Assert.Equal(TimeSpan.Zero, record.OccurredAt.Offset);
        Assert.Equal(ReceivedAt, record.ReceivedAt);
        Assert.Equal("ada@example.com", record.Identities.Email);
        Assert.Equal("+14155550123", record.Identities.Phone);
        Assert.Equal("anon-1", record.Identities.AnonymousId);
        Assert.Equal("Google", record.Attribution.Raw.Source);
        Assert.Equal("google", record.Attribution.Source);
        Assert.Equal("paid_search", record.Attribution.Medium);
        Assert.Equal("spring-launch", record.Attribution.Campaign);
        Assert.Equal("Cj0KCQiA-CaseSensitive_ID", record.Attribution.ClickId);
        Assert.Equal("Cj0KCQiA-CaseSensitive_ID", record.ClickIds!["gclid"]);
        Assert.Equal("paid_search", record.Attribution.Channel);
        Assert.Equal("A podcast", record.SelfReportedSource);
        Assert.Equal("email:ada@example.com", TouchBuilder.PartitionKey(record));
    }

    [Theory]
    [InlineData("call", TouchKind.Call)]
    [InlineData("AD", TouchKind.Ad)]
    [InlineData("visit", TouchKind.Visit)]
    public void Build_KindInAnyCase_IsRead(string kind, TouchKind expected) =>
        Assert.Equal(expected, Valid(new TouchPayload { Kind = kind, AnonymousId = "a1" }).Kind);

    [Fact]
    public void Build_NoKind_TakesTheDoorsDefaultElseIsRejected()
    {
        Assert.Equal(TouchKind.Form, Valid(new TouchPayload { AnonymousId = "a1" }, new TouchContext { Door = "form", ReceivedAt = ReceivedAt, DefaultKind = TouchKind.Form }).Kind);

        var error = Invalid(new TouchPayload { AnonymousId = "a1" });
        Assert.Equal(("kind", "missing_kind"), (error.Field, error.Code));
    }

    [Fact]
    public void Build_UnknownKind_IsRejected()
    {
        var error = Invalid(new TouchPayload { Kind = "pageview", AnonymousId = "a1" });
        Assert.Equal(("kind", "invalid_kind"), (error.Field, error.Code));
    }

    [Fact]
    public void Build_NoEventId_TakesTheDerivedOneElseAUuid7()
    {
        var derived = Valid(new TouchPayload { Kind = "call", Phone = "+14155550123" },
            new TouchContext { Door = "twilio", ReceivedAt = ReceivedAt, DerivedEventId = "twilio:CA01" });
        Assert.Equal("twilio:CA01", derived.EventId);

        var explicitWins = Valid(new TouchPayload { EventId = "mine", Kind = "call", Phone = "+14155550123" },
            new TouchContext { Door = "twilio", ReceivedAt = ReceivedAt, DerivedEventId = "twilio:CA01" });
        Assert.Equal("mine", explicitWins.EventId);

        var random = Valid(new TouchPayload { Kind = "visit", AnonymousId = "a1" });
        Assert.True(Guid.TryParse(random.EventId, out var id), random.EventId);
        Assert.Equal(7, id.Version);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("   ")]
    public void Build_EventIdNotPrintableWithoutSpaces_IsRejected(string eventId)
    {
        var error = Invalid(new TouchPayload { EventId = eventId, Kind = "visit", AnonymousId = "a1" });
        Assert.Equal(("event_id", "invalid_event_id"), (error.Field, error.Code));
    }

    [Fact]
    public void Build_NoOccurredAt_IsTheReceivedTime() =>
        Assert.Equal(ReceivedAt, Valid(new TouchPayload { Kind = "visit", AnonymousId = "a1" }).OccurredAt);

    [Theory]
    [InlineData("2026-11-23T10:15:00", "invalid_timestamp")]
    [InlineData("23/11/2026 10:15", "invalid_timestamp")]
    [InlineData("2026-11-23T10:20:01Z", "occurred_at_in_future")]
    [InlineData("1999-12-31T23:59:59Z", "occurred_at_too_old")]
    public void Build_OccurredAtWithoutOffsetTooFarAheadOrTooOld_IsRejected(string occurredAt, string code)
    {
        var error = Invalid(new TouchPayload { Kind = "visit", AnonymousId = "a1", OccurredAt = occurredAt });
        Assert.Equal(("occurred_at", code), (error.Field, error.Code));
    }

    [Fact]
    public void Build_OccurredAtWithinTheClockSkew_IsKept() =>
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 10, 20, 0, TimeSpan.Zero),
            Valid(new TouchPayload { Kind = "visit", AnonymousId = "a1", OccurredAt = "2026-11-23T10:20:00Z" }).OccurredAt);

    [Fact]
    public void Build_NoIdentity_IsRejected()
    {
        var error = Invalid(new TouchPayload { Kind = "visit", PageUrl = "https://example.com/" });
        Assert.Equal(("identities", "no_identity"), (error.Field, error.Code));
    }

    [Fact]
    public void Build_OnlyAClickId_IsEnoughAndKeysThePartition()
    {
        var payload = new TouchPayload { Kind = "ad" };
        payload.AddClickId("msclkid", "AbC123");

        var record = Valid(payload);

        Assert.Equal("click:AbC123", TouchBuilder.PartitionKey(record));
        Assert.Equal("microsoft_ads", record.Attribution.ClickNetwork);
    }

    [Fact]
    public void Build_NoIdentityButAwaitingEnrichment_IsKeptAndKeyedByTheEvent()
    {
        var record = Valid(new TouchPayload { Kind = "ad" }, new TouchContext { Door = "meta", ReceivedAt = ReceivedAt, DerivedEventId = "meta:555", AwaitingEnrichment = true });

        Assert.True(record.AwaitingEnrichment);
        Assert.Equal("event:meta:555", TouchBuilder.PartitionKey(record));
    }

    [Theory]
    [InlineData("not-an-address", "email", "invalid_email")]
    [InlineData("12", "phone", "invalid_phone")]
    public void Build_UnusableEmailOrPhone_IsRejectedNamingTheField(string value, string field, string code)
    {
        var payload = new TouchPayload { Kind = "form", AnonymousId = "a1" };
        if (field == "email")
        {
            payload.Email = value;
        }
        else
        {
            payload.Phone = value;
        }

        var error = Invalid(payload);
        Assert.Equal((field, code), (error.Field, error.Code));
    }

    [Fact]
    public void Build_IdentitiesNormalizedByTheDoor_AreTakenAsGiven()
    {
        var record = Valid(new TouchPayload { Kind = "call", Phone = "+14155550123", Email = "Ada@Example.com" },
            new TouchContext { Door = "callrail", ReceivedAt = ReceivedAt, IdentitiesNormalized = true });

        Assert.Equal("Ada@Example.com", record.Identities.Email);
        Assert.Equal("+14155550123", record.Identities.Phone);
    }

    [Fact]
    public void Build_IdentityWithAControlCharacter_IsRejected()
    {
        var error = Invalid(new TouchPayload { Kind = "visit", AnonymousId = "a\u0001b" });
        Assert.Equal(("anonymous_id", "invalid_identity"), (error.Field, error.Code));
    }

    [Fact]
    public void Build_PropertiesNotAnObject_IsRejected()
    {
        var error = Invalid(new TouchPayload { Kind = "visit", AnonymousId = "a1", Properties = JsonSerializer.SerializeToElement(new[] { 1, 2 }) });
        Assert.Equal(("properties", "invalid_properties"), (error.Field, error.Code));
    }

    [Fact]
    public void Build_PropertiesOverTheLimit_IsRejected()
    {
        var big = JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["message"] = new string('x', 16 * 1024) });
        var error = Invalid(new TouchPayload { Kind = "visit", AnonymousId = "a1", Properties = big });
        Assert.Equal(("properties", "properties_too_large"), (error.Field, error.Code));
    }

    [Theory]
    [InlineData(8_000, true)] // {"message":"é…"}: 14 + 2 × 8,000 = 16,014 bytes of UTF-8
    [InlineData(9_000, false)] // 14 + 2 × 9,000 = 18,014 bytes, though only 9,014 UTF-16 characters
    public void Build_PropertiesLimit_CountsUtf8Bytes(int accents, bool accepted)
    {
        using var document = JsonDocument.Parse("{\"message\":\"" + new string('é', accents) + "\"}");
        var payload = new TouchPayload { Kind = "visit", AnonymousId = "a1", Properties = document.RootElement.Clone() };
        if (accepted)
        {
            Valid(payload);
        }
        else
        {
            Assert.Equal(("properties", "properties_too_large"), (Invalid(payload).Field, Invalid(payload).Code));
        }
    }

    [Fact]
    public void Build_SeveralProblems_AreAllReportedAtOnce()
    {
        var built = Builder.Build(new TouchPayload { Kind = "pageview", OccurredAt = "yesterday", Email = "nope" }, Api);

        Assert.Equal(new[] { "kind", "occurred_at", "email" }, built.Errors.Select(static e => e.Field));
    }

    [Fact]
    public void GovernanceInputOf_CallPayload_IsOfflineAndCarriesTheClickIds()
    {
        var payload = new TouchPayload { UtmSource = "google", UtmMedium = "cpc", PageUrl = "https://example.com/" };
        payload.AddClickId("gclid", "G1");

        var input = TouchBuilder.GovernanceInputOf(payload, isOffline: true);

        Assert.True(input.IsOffline);
        Assert.Equal("google", input.UtmSource);
        Assert.Equal("https://example.com/", input.PageUrl);
        Assert.Equal(new[] { new KeyValuePair<string, string>("gclid", "G1") }, input.ClickIds!);
    }
}
