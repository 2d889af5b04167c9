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
}
