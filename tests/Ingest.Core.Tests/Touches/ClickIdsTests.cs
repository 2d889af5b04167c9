using System.Text.Json;
using Ingest.Core.Governance;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;

namespace Ingest.Core.Tests.Touches;

public sealed class ClickIdsTests
{
    [Fact]
    public void Names_ComparedWithTheShippedRulesClickIdMap_AreTheSameNamesInTheSameOrder()
    {
        var rules = GovernanceRules.Default.ClickIds.Select(static c => c.Param.ToLowerInvariant());
        Assert.Equal(rules, ClickIds.Names);
    }

    [Fact]
    public void Names_FirstAndLast_AreGclidAndFbclid()
    {
        Assert.Equal(13, ClickIds.Names.Count);
        Assert.Equal("gclid", ClickIds.Names[0]);
        Assert.Equal("fbclid", ClickIds.Names[^1]);
    }

    [Theory]
    [InlineData("ScCid", "sccid")]
    [InlineData("YCLID", "yclid")]
    [InlineData("utm_source", null)]
    public void Find_AnyCase_ReturnsTheListedName(string name, string? listed) => Assert.Equal(listed, ClickIds.Find(name));

    [Fact]
    public void TouchPayload_ClickIdFieldsInAnyCase_AreReadAsClickIds()
    {
        var payload = JsonSerializer.Deserialize("""{"anonymous_id":"a","yclid":"Ya-1","ScCid":"Snap-1","gclid":null,"colour":"red"}""", IngestJsonContext.Default.TouchPayload)!;

        Assert.Equal(new Dictionary<string, string> { ["yclid"] = "Ya-1", ["sccid"] = "Snap-1" }, payload.ClickIds);
    }

    [Fact]
    public void TouchPayload_ClickIdOfTheWrongType_ThrowsNamingTheField()
    {
        var ex = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"anonymous_id":"a","gclid":42}""", IngestJsonContext.Default.TouchPayload));
        Assert.Equal("$.gclid", ex.Path);
    }
}
