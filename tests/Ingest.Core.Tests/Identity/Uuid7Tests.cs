using Ingest.Core.Identity;

namespace Ingest.Core.Tests.Identity;

public class Uuid7Tests
{
    [Fact]
    public void New_CarriesVersion7AndTheRfcVariant()
    {
        var text = Uuid7.New().ToString();

        Assert.Equal('7', text[14]);
        Assert.Contains(text[19], "89ab");
    }

    [Fact]
    public void New_StartsWithTheUnixMillisecondsOfItsTime_SoIdsSortByCreation()
    {
        var at = new DateTimeOffset(2026, 12, 1, 8, 30, 0, 123, TimeSpan.Zero);

        var id = Uuid7.New(at);

        Span<byte> bytes = stackalloc byte[16];
        Assert.True(id.TryWriteBytes(bytes, bigEndian: true, out _));
        var millis = ((long)bytes[0] << 40) | ((long)bytes[1] << 32) | ((long)bytes[2] << 24) | ((long)bytes[3] << 16) | ((long)bytes[4] << 8) | bytes[5];
        Assert.Equal(at.ToUnixTimeMilliseconds(), millis);
        Assert.True(string.CompareOrdinal(Uuid7.New(at).ToString(), Uuid7.New(at.AddMilliseconds(1)).ToString()) < 0);
    }

    [Fact]
    public void New_ManyIdsAcrossBufferRefillsAndThreads_AreAllDistinct()
    {
        var ids = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        Parallel.For(0, 4, _ =>
        {
            for (var i = 0; i < 5_000; i++)
            {
                ids.Add(Uuid7.New());
            }
        });

        Assert.Equal(20_000, ids.Distinct().Count());
    }
}
