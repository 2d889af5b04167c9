using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Ingest.Core.Identity;

/// <summary>
/// UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then 74 random bits, so ids sort by creation time. The random bits come
/// from the OS CSPRNG like <see cref="Guid.CreateVersion7()"/>'s, but through a per-thread buffer refilled 400 ids at a
/// time: <c>Guid.CreateVersion7</c> makes one system call per id, which cost 1.45 µs per touch here (Ingest.Benchmarks).
/// </summary>
public static class Uuid7
{
    private const int RandomBytes = 10;
    private const int BufferSize = 400 * RandomBytes;

    [ThreadStatic] private static byte[]? t_random;
    [ThreadStatic] private static int t_next;

    /// <summary>A new UUIDv7 for the current time.</summary>
    public static Guid New() => New(DateTimeOffset.UtcNow);

    /// <summary>A new UUIDv7 for <paramref name="time"/>.</summary>
    public static Guid New(DateTimeOffset time)
    {
        var random = t_random;
        if (random is null || t_next == BufferSize)
        {
            random = t_random ??= new byte[BufferSize];
            RandomNumberGenerator.Fill(random);
            t_next = 0;
        }

        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteInt64BigEndian(bytes[..8], time.ToUnixTimeMilliseconds() << 16);
        random.AsSpan(t_next, RandomBytes).CopyTo(bytes[6..]);
        t_next += RandomBytes;
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x70); // version 7
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // variant 10xx
        return new Guid(bytes, bigEndian: true);
    }
}
