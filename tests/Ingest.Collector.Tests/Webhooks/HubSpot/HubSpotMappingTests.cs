using System.Text.Json;
using Ingest.Collector.Webhooks.HubSpot;

namespace Ingest.Collector.Tests.Webhooks.HubSpot;

public sealed class HubSpotMappingTests
{
    private static readonly DateTimeOffset ReceivedAt = new(2024, 12, 2, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Map_LifecycleStageChanges_BecomeStageOutcomes_OthersSkipped()
    {
        using var document = JsonDocument.Parse("""
            [{"eventId":11,"portalId":7,"occurredAt":1733131800123,"subscriptionType":"contact.propertyChange","objectId":65059681032,"propertyName":"lifecyclestage","propertyValue":"salesqualifiedlead"},
             {"eventId":12,"portalId":7,"occurredAt":1733131800123,"subscriptionType":"contact.propertyChange","objectId":65059681032,"propertyName":"firstname","propertyValue":"Ada"},
             {"eventId":13,"portalId":7,"occurredAt":1733131800123,"subscriptionType":"contact.creation","objectId":65059681032},
             {"eventId":14,"portalId":7,"occurredAt":1733131800123,"subscriptionType":"contact.propertyChange","objectId":5,"propertyName":"lifecyclestage","propertyValue":"subscriber"},
             {"eventId":15,"portalId":7,"occurredAt":1733131900000,"subscriptionType":"contact.propertyChange","objectId":6,"propertyName":"lifecyclestage","propertyValue":"118472"},
             {"eventId":16,"portalId":7,"occurredAt":1733131900000,"subscriptionType":"contact.propertyChange","objectId":6,"propertyName":"lifecyclestage","propertyValue":"99"}]
            """);
        var mapped = HubSpotMapping.Map(document.RootElement, new Dictionary<string, string> { ["118472"] = "opportunity" }, ReceivedAt);

        Assert.Equal(2, mapped.Count);
        var (sql, context) = mapped[0];
        Assert.Equal(("stage", "sql", "65059681032", "hubspot"), (sql.Type, sql.Stage, sql.ExternalId, sql.SourceSystem));
        Assert.Equal("2024-12-02T09:30:00.123Z", sql.OccurredAt);
        Assert.Equal("hubspot:7:11", context.DerivedEventId);
        Assert.Equal("hubspot", context.Door);
        Assert.Equal(("opportunity", "6", "hubspot:7:15"), (mapped[1].Payload.Stage, mapped[1].Payload.ExternalId, mapped[1].Context.DerivedEventId));
    }

    [Fact]
    public void Map_NotAnArray_Throws()
    {
        using var document = JsonDocument.Parse("""{"eventId":1}""");
        Assert.Throws<JsonException>(() => HubSpotMapping.Map(document.RootElement, new Dictionary<string, string>(), ReceivedAt));
    }
}
