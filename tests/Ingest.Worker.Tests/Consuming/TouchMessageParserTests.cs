using System.Text;
using Confluent.Kafka;
using Ingest.Worker.Consuming;

namespace Ingest.Worker.Tests.Consuming;

/// <summary>The parser alone: no broker, no database.</summary>
public sealed class TouchMessageParserTests
{
    private const string Valid = """{"event_id":"e-1","kind":"form","door":"api","occurred_at":"2026-11-01T00:00:00Z","received_at":"2026-11-01T00:00:01Z","identities":{"email":"ada@example.com"}}""";

    private static Message<byte[]?, byte[]> Message(string json, string? schemaVersion = "1")
    {
        var headers = new Headers();
        if (schemaVersion is not null)
        {
            headers.Add("schema-version", Encoding.UTF8.GetBytes(schemaVersion));
        }

        return new Message<byte[]?, byte[]> { Key = null, Value = Encoding.UTF8.GetBytes(json), Headers = headers };
    }

    [Fact]
    public void ValidRecord_ParsesWithItsIdentityKeys()
    {
        Assert.True(TouchMessageParser.TryParse(Message(Valid), out var touch, out var reason));
        Assert.Equal("", reason);
        Assert.Equal("e-1", touch.Record.EventId);
        Assert.Equal("email:ada@example.com", Assert.Single(touch.Keys).ToString());
    }

    [Fact]
    public void NoSchemaVersionHeader_IsReadAsVersionOne()
    {
        Assert.True(TouchMessageParser.TryParse(Message(Valid, schemaVersion: null), out _, out _));
    }

    [Theory]
    [InlineData("{not json", "1", "invalid JSON")]
    [InlineData("null", "1", "message is JSON null")]
    [InlineData("{}", "99", "unsupported schema-version 99")]
    [InlineData("""{"event_id":"n","kind":"form","door":"api","occurred_at":"2026-11-01T00:00:00Z","received_at":"2026-11-01T00:00:00Z","identities":{"email":"a@b.c"},"referrer":"a\u0000b"}""", "1", "escaped NUL")]
    [InlineData("""{"event_id":"","kind":"form","door":"api","occurred_at":"2026-11-01T00:00:00Z","received_at":"2026-11-01T00:00:00Z","identities":{"email":"a@b.c"}}""", "1", "event_id")]
    [InlineData("""{"event_id":"x","kind":"form","door":"api","occurred_at":"2026-11-01T00:00:00Z","received_at":"2026-11-01T00:00:00Z"}""", "1", "no identity key")]
    public void PoisonRecord_IsRefusedWithAReason(string json, string schemaVersion, string expectedReason)
    {
        Assert.False(TouchMessageParser.TryParse(Message(json, schemaVersion), out var touch, out var reason));
        Assert.Null(touch);
        Assert.Contains(expectedReason, reason, StringComparison.Ordinal);
    }
}
