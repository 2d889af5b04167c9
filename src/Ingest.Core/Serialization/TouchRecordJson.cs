using System.Text.Json;
using Ingest.Core.Touches;

namespace Ingest.Core.Serialization;

/// <summary>
/// A touch record as it travels on Kafka and is stored as jsonb: UTF-8 JSON that Postgres can store. Postgres text and
/// jsonb cannot hold U+0000, so an escaped NUL (<c>\u0000</c>) anywhere in the record becomes U+FFFD (<c>\ufffd</c>):
/// one unstorable character must not make a whole batch, and the partition behind it, fail forever.
/// </summary>
public static class TouchRecordJson
{
    private static ReadOnlySpan<byte> NulEscape => "\\u0000"u8;

    /// <summary>The record's bytes; throws <see cref="JsonException"/> when its properties hold text that is not valid Unicode.</summary>
    public static byte[] Encode(TouchRecord record)
    {
        byte[] json;
        try
        {
            json = JsonSerializer.SerializeToUtf8Bytes(record, IngestJsonContext.Default.TouchRecord);
        }
        catch (ArgumentException ex)
        {
            throw new JsonException("The touch holds text that is not valid Unicode (an unpaired surrogate escape).", ex);
        }

        ReplaceNul(json);
        return json;
    }

    /// <summary>Replaces every escaped NUL in UTF-8 JSON with an escaped U+FFFD, in place; returns how many.</summary>
    public static int ReplaceNul(Span<byte> json)
    {
        var replaced = 0;
        for (var at = IndexOfNul(json, 0); at >= 0; at = IndexOfNul(json, at + NulEscape.Length))
        {
            "fffd"u8.CopyTo(json[(at + 2)..]);
            replaced++;
        }

        return replaced;
    }

    /// <summary>Whether UTF-8 JSON holds an escaped NUL that Postgres would refuse.</summary>
    public static bool ContainsNul(ReadOnlySpan<byte> json) => IndexOfNul(json, 0) >= 0;

    // "\u0000" is a NUL escape only when its backslash is not itself escaped (an even run of backslashes before it).
    private static int IndexOfNul(ReadOnlySpan<byte> json, int from)
    {
        while (from < json.Length)
        {
            var found = json[from..].IndexOf(NulEscape);
            if (found < 0)
            {
                return -1;
            }

            var at = from + found;
            var backslashes = 0;
            for (var i = at - 1; i >= 0 && json[i] == (byte)'\\'; i--)
            {
                backslashes++;
            }

            if (backslashes % 2 == 0)
            {
                return at;
            }

            from = at + 1;
        }

        return -1;
    }
}
