using System.Text;
using Confluent.Kafka;
using Ingest.Core.Touches;
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
            headers.Add(TouchHeaders.SchemaVersion, Encoding.UTF8.GetBytes(schemaVersion));
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
    [InlineData("""{"event_id":"d","kind":"form","door":null,"occurred_at":"2026-11-01T00:00:00Z","received_at":"2026-11-01T00:00:00Z","identities":{"email":"a@b.c"}}""", "1", "door missing")]
    [InlineData("""{"event_id":"d","kind":"form","door":"","occurred_at":"2026-11-01T00:00:00Z","received_at":"2026-11-01T00:00:00Z","identities":{"email":"a@b.c"}}""", "1", "door missing")]
    [InlineData("""{"event_id":"k","kind":7,"door":"api","occurred_at":"2026-11-01T00:00:00Z","received_at":"2026-11-01T00:00:00Z","identities":{"email":"a@b.c"}}""", "1", "kind is not one of")]
    [InlineData("""{"event_id":"i","kind":"form","door":"api","occurred_at":"2026-11-01T00:00:00Z","received_at":"2026-11-01T00:00:00Z","identities":null}""", "1", "no identity key")]
    [InlineData("""{"event_id":"c","kind":"form","door":"api","occurred_at":"2026-11-01T00:00:00Z","received_at":"2026-11-01T00:00:00Z","identities":{"email":"a@b.c"},"attribution":{"channel":null,"ga4_channel":"Direct"}}""", "1", "no channel")]
    public void PoisonRecord_IsRefusedWithAReason(string json, string schemaVersion, string expectedReason)
    {
        Assert.False(TouchMessageParser.TryParse(Message(json, schemaVersion), out var touch, out var reason));
        Assert.Null(touch);
        Assert.Contains(expectedReason, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void EventIdOfTheSharedMaximumLength_Parses_OneMore_IsRefused()
    {
        string Record(int length) => $$$"""{"event_id":"{{{new string('e', length)}}}","kind":"form","door":"api","occurred_at":"2026-11-01T00:00:00Z","received_at":"2026-11-01T00:00:00Z","identities":{"email":"a@b.c"}}""";

        Assert.Equal(128, TouchRecord.MaxEventIdLength);
        Assert.True(TouchMessageParser.TryParse(Message(Record(128)), out _, out _));
        Assert.False(TouchMessageParser.TryParse(Message(Record(129)), out _, out var reason));
        Assert.Equal("event_id missing or longer than 128 characters", reason);
    }

    [Fact]
    public void ClickIdOverTheGovernanceLimit_IsRefused_AtTheLimitParses()
    {
        string Record(int length) => $$$"""{"event_id":"c","kind":"ad","door":"api","occurred_at":"2026-11-01T00:00:00Z","received_at":"2026-11-01T00:00:00Z","attribution":{"click_id":"{{{new string('g', length)}}}"}}""";

        Assert.True(TouchMessageParser.TryParse(Message(Record(512)), out var touch, out _));
        Assert.Equal("click_id", Assert.Single(touch.Keys).Kind);
        Assert.False(TouchMessageParser.TryParse(Message(Record(513)), out _, out var reason));
        Assert.Equal("a click id is missing or longer than 512 characters", reason);
    }

    [Fact]
    public void IdentityOverTheSharedLimit_IsRefused()
    {
        var json = $$$"""{"event_id":"l","kind":"form","door":"api","occurred_at":"2026-11-01T00:00:00Z","received_at":"2026-11-01T00:00:00Z","identities":{"anonymous_id":"{{{new string('a', 321)}}}"}}""";

        Assert.False(TouchMessageParser.TryParse(Message(json), out _, out var reason));
        Assert.Equal("an identity is longer than 320 characters", reason);
    }
}
