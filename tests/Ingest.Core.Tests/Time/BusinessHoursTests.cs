using Ingest.Core.Time;

namespace Ingest.Core.Tests.Time;

/// <summary>Working minutes in New York, Monday to Friday 09:00-17:00; every expected figure counted by hand.</summary>
public sealed class BusinessHoursTests
{
    private static readonly BusinessHours NewYork = new() { TimeZone = "America/New_York" };

    private static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    // Friday 16:50 EST → Monday 09:05 EST: 10 minutes on Friday, 5 on Monday.
    [InlineData("2026-11-20T21:50:00Z", "2026-11-23T14:05:00Z", 15)]
    // Saturday 10:00 → 11:00: a weekend, no working time.
    [InlineData("2026-11-21T15:00:00Z", "2026-11-21T16:00:00Z", 0)]
    // Tuesday 08:00 → 10:30: the clock starts at 09:00.
    [InlineData("2026-11-24T13:00:00Z", "2026-11-24T15:30:00Z", 90)]
    // Wednesday 13:00 → 13:04: all inside.
    [InlineData("2026-11-25T18:00:00Z", "2026-11-25T18:04:00Z", 4)]
    // Thursday 18:00 → Friday 08:59: outside both days' hours.
    [InlineData("2026-11-26T23:00:00Z", "2026-11-27T13:59:00Z", 0)]
    // Friday 16:00 EDT → Monday 10:00 EST across the end of daylight saving (1 November 2026): 60 + 60.
    [InlineData("2026-10-30T20:00:00Z", "2026-11-02T15:00:00Z", 120)]
    // Monday 09:00 → the next Monday 09:00: five full days of eight hours.
    [InlineData("2026-11-16T14:00:00Z", "2026-11-23T14:00:00Z", 2400)]
    public void WorkingMinutes_CountOnlyTheWorkingHoursOfWorkingDays(string from, string to, double expected)
    {
        Assert.Equal(expected, NewYork.WorkingMinutes(Utc(from), Utc(to)), 6);
    }

    [Fact]
    public void NotConfigured_TheClockRunsAroundTheClock()
    {
        // Friday 21:50Z → Monday 14:05Z: 2 days (2,880) + 16 h 15 min (975).
        Assert.Equal(3_855, new BusinessHours().WorkingMinutes(Utc("2026-11-20T21:50:00Z"), Utc("2026-11-23T14:05:00Z")), 6);
        Assert.Null(new BusinessHours().Problem());
    }

    [Fact]
    public void ResponseBeforeCreation_IsZero() => Assert.Equal(0, NewYork.WorkingMinutes(Utc("2026-11-24T15:00:00Z"), Utc("2026-11-24T14:00:00Z")));

    [Theory]
    [InlineData("Mars/Olympus", "09:00", "17:00", "TimeZone")]
    [InlineData("Europe/Berlin", "17:00", "09:00", "Start and End")]
    [InlineData("Europe/Berlin", "9am", "17:00", "Start and End")]
    public void BadSettings_AreNamed(string zone, string start, string end, string named)
    {
        var problem = new BusinessHours { TimeZone = zone, Start = start, End = end }.Problem();
        Assert.NotNull(problem);
        Assert.Contains(named, problem);
    }

    [Fact]
    public void CustomDays_SaturdayCounts()
    {
        var retail = new BusinessHours { TimeZone = "America/New_York", Days = ["sat"], Start = "10:00", End = "14:00" };
        Assert.Equal(60, retail.WorkingMinutes(Utc("2026-11-21T15:00:00Z"), Utc("2026-11-21T16:00:00Z")), 6); // Saturday 10:00-11:00
        Assert.Equal(0, retail.WorkingMinutes(Utc("2026-11-23T15:00:00Z"), Utc("2026-11-23T16:00:00Z"))); // Monday
    }
}
