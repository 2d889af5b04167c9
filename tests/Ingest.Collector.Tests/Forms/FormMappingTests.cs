using Ingest.Collector.Forms;
using Ingest.Core.Governance;
using Ingest.Core.Identity;
using Ingest.Core.Touches;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Ingest.Collector.Tests.Forms;

public sealed class FormMappingTests
{
    private static readonly TouchBuilder Builder = new(new GovernanceEngine(GovernanceRules.Default), new IdentityNormalizer(), new TouchLimits());
    private static readonly DateTimeOffset ReceivedAt = new(2026, 11, 23, 10, 15, 0, TimeSpan.Zero);

    private static TouchRecord Build(Dictionary<string, string> fields, string referer = "")
    {
        var form = new FormCollection(fields.ToDictionary(static f => f.Key, static f => new StringValues(f.Value)));
        var built = Builder.Build(FormsApi.Map(form, referer), new TouchContext { Door = "form", ReceivedAt = ReceivedAt, DefaultKind = TouchKind.Form });
        Assert.True(built.IsValid, string.Join("; ", built.Errors.Select(static e => e.Message)));
        return built.Record!;
    }

    [Fact]
    public void Map_YclidHiddenField_IsAClickIdNotAProperty()
    {
        var record = Build(new() { ["email"] = "ada@example.com", ["name"] = "Ada", ["yclid"] = "Ya-ClickId-1" });

        Assert.Equal("Ya-ClickId-1", record.Attribution.ClickId);
        Assert.Equal("yandex_direct", record.Attribution.ClickNetwork);
        Assert.Equal("Ya-ClickId-1", record.ClickIds!["yclid"]);
        Assert.Equal("""{"name":"Ada"}""", record.Properties!.Value.GetRawText());
    }

    [Fact]
    public void Map_ContactForm_TakesIdentitiesByAnyFieldNameAndKeepsTheRestAsProperties()
    {
        var record = Build(new()
        {
            ["Email"] = " Ada@Example.COM ",
            ["tel"] = "(415) 555-0123",
            ["how_did_you_hear"] = "A podcast",
            ["Message"] = "Please call me back",
        });

        Assert.Equal(TouchKind.Form, record.Kind);
        Assert.Equal("form", record.Door);
        Assert.Equal("ada@example.com", record.Identities.Email);
        Assert.Equal("+14155550123", record.Identities.Phone);
        Assert.Equal("A podcast", record.SelfReportedSource);
        Assert.Equal("""{"message":"Please call me back"}""", record.Properties!.Value.GetRawText());
        Assert.Equal(ReceivedAt, record.OccurredAt);
    }

    [Fact]
    public void Map_UtmsAndClickIdInTheRefererOnly_AreTakenFromTheReferer()
    {
        var record = Build(new() { ["email"] = "ada@example.com" },
            "https://example.com/contact?utm_source=newsletter&utm_medium=email&utm_campaign=nov-digest&gclid=Cj0-AbC");

        Assert.Equal("https://example.com/contact?utm_source=newsletter&utm_medium=email&utm_campaign=nov-digest&gclid=Cj0-AbC", record.PageUrl);
        Assert.Equal("newsletter", record.Attribution.Raw.Source);
        Assert.Equal("email", record.Attribution.Raw.Medium);
        Assert.Equal("nov-digest", record.Attribution.Raw.Campaign);
        Assert.Equal("Cj0-AbC", record.Attribution.ClickId);
        Assert.Equal("google_ads", record.Attribution.ClickNetwork);
        Assert.Null(record.Properties);
    }

    [Fact]
    public void Map_HiddenFields_WinOverTheReferer()
    {
        var record = Build(new()
        {
            ["email"] = "ada@example.com",
            ["page_url"] = "https://example.com/landing",
            ["utm_source"] = "linkedin",
            ["utm_medium"] = "paid_social",
            ["utm_campaign"] = "q4-webinar",
            ["event_id"] = "form-evt-1",
            ["occurred_at"] = "2026-11-23T10:00:00Z",
        }, "https://example.com/contact?utm_source=google&utm_medium=cpc&utm_campaign=other");

        Assert.Equal("form-evt-1", record.EventId);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero), record.OccurredAt);
        Assert.Equal("https://example.com/landing", record.PageUrl);
        Assert.Equal("linkedin", record.Attribution.Source);
        Assert.Equal("paid_social", record.Attribution.Medium);
        Assert.Equal("q4-webinar", record.Attribution.Campaign);
        Assert.Equal("paid_social", record.Attribution.Channel);
        Assert.Null(record.Properties);
    }

    [Fact]
    public void Map_NoRefererAndNoTracking_IsADirectTouch()
    {
        var record = Build(new() { ["email"] = "ada@example.com" }, "not a url");

        Assert.Null(record.PageUrl);
        Assert.Null(record.Attribution.Raw.Source);
        Assert.Null(record.ClickIds);
        Assert.Equal("direct", record.Attribution.Channel);
    }
}
