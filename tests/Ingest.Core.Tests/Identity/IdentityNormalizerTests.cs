using Ingest.Core.Identity;

namespace Ingest.Core.Tests.Identity;

public sealed class IdentityNormalizerTests
{
    [Theory]
    [InlineData("  Ada.Lovelace@Example.COM ", "ada.lovelace@example.com")]
    [InlineData("a@b.co", "a@b.co")]
    [InlineData("not-an-email", null)]
    [InlineData("two@@example.com", null)]
    [InlineData("spa ce@example.com", null)]
    [InlineData("@example.com", null)]
    [InlineData("   ", null)]
    public void Email_TrimmedAndLowercased_GarbageIsNull(string input, string? expected) =>
        Assert.Equal(expected, IdentityNormalizer.NormalizeEmail(input));

    [Theory]
    [InlineData("(415) 555-0100", "+14155550100")]
    [InlineData("+1 415 555 0100", "+14155550100")]
    [InlineData("415.555.0100", "+14155550100")]
    [InlineData("+44 20 7946 0958", "+442079460958")]
    [InlineData("12", null)]
    [InlineData("call me", null)]
    public void Phone_ToE164WithDefaultRegionUs(string input, string? expected) =>
        Assert.Equal(expected, new IdentityNormalizer("US").NormalizePhone(input));

    [Fact]
    public void Phone_DefaultRegion_AppliesToNumbersWithoutCountryCode() =>
        Assert.Equal("+442079460958", new IdentityNormalizer("GB").NormalizePhone("020 7946 0958"));
}
