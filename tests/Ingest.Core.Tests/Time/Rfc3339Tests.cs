using Ingest.Core.Time;

namespace Ingest.Core.Tests.Time;

public sealed class Rfc3339Tests
{
    [Theory]
    [InlineData("2026-11-23T10:15:00Z")]
    [InlineData("2026-11-23t10:15:00z")]
    [InlineData("2026-11-23 10:15:00Z")]
    [InlineData("2026-11-23T11:15:00+01:00")]
    [InlineData("2026-11-23T05:15:00-05:00")]
    [InlineData(" 2026-11-23T10:15:00.000Z ")]
    public void TryParse_DateTimeAndOffset_IsReadAsUtc(string text)
    {
        Assert.True(Rfc3339.TryParse(text, out var value));
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 10, 15, 0, TimeSpan.Zero), value);
        Assert.Equal(TimeSpan.Zero, value.Offset);
    }

    [Fact]
    public void TryParse_FractionalSeconds_AreKept()
    {
        Assert.True(Rfc3339.TryParse("2026-11-23T10:15:00.1234567Z", out var value));
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 10, 15, 0, TimeSpan.Zero).AddTicks(1_234_567), value);
    }

    [Theory]
    [InlineData("2026-11-23T10:15:00")]
    [InlineData("2026-11-23")]
    [InlineData("2026-11-23T10:15Z")]
    [InlineData("23/11/2026 10:15:00Z")]
    [InlineData("2026-11-23T10:15:00+0100")]
    [InlineData("")]
    public void TryParse_NoOffsetOrNotRfc3339_IsRefused(string text)
    {
        Assert.False(Rfc3339.TryParse(text, out var value));
        Assert.Equal(default, value);
    }
}
