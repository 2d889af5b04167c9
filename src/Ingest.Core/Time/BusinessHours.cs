using System.Globalization;

namespace Ingest.Core.Time;

/// <summary>
/// Working hours (<c>Reports:BusinessHours</c>): a time zone, the working days and one daily span. When set, the
/// speed-to-lead clock runs only inside them (a lead that arrives Friday at 16:50 and is answered Monday at 09:05 waited
/// 15 working minutes). Unset (no <see cref="TimeZone"/>), the clock runs around the clock.
/// </summary>
public sealed class BusinessHours
{
    private const int MaxDays = 3_660;
    private static readonly string[] DayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    private Compiled? _compiled;

    /// <summary>IANA time zone (<c>America/New_York</c>); null or empty: no business hours.</summary>
    public string? TimeZone { get; set; }

    /// <summary>Working days, three-letter English names (default Monday to Friday).</summary>
    public List<string> Days { get; set; } = ["mon", "tue", "wed", "thu", "fri"];

    /// <summary>Start of the working day, local time (HH:mm).</summary>
    public string Start { get; set; } = "09:00";

    /// <summary>End of the working day, local time (HH:mm), after <see cref="Start"/>.</summary>
    public string End { get; set; } = "17:00";

    public bool Enabled => !string.IsNullOrWhiteSpace(TimeZone);

    /// <summary>Why these settings cannot be used (naming the setting), or null when they can.</summary>
    public string? Problem()
    {
        if (!Enabled)
        {
            return null;
        }

        if (!TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone!, out _))
        {
            return $"Reports:BusinessHours:TimeZone '{TimeZone}' is not a known time zone (use an IANA name such as America/New_York).";
        }

        if (Days.Count == 0 || Days.Any(d => Array.IndexOf(DayNames, d.Trim().ToLowerInvariant()) < 0))
        {
            return "Reports:BusinessHours:Days must list working days as sun, mon, tue, wed, thu, fri, sat.";
        }

        if (!TryTime(Start, out var start) || !TryTime(End, out var end) || end <= start)
        {
            return "Reports:BusinessHours:Start and End must be HH:mm local times with End after Start.";
        }

        return null;
    }

    /// <summary>Minutes of working time between <paramref name="from"/> and <paramref name="to"/> (0 when <paramref name="to"/> is not later).</summary>
    public double WorkingMinutes(DateTimeOffset from, DateTimeOffset to)
    {
        if (to <= from)
        {
            return 0;
        }

        if (!Enabled)
        {
            return (to - from).TotalMinutes;
        }

        var (zone, start, end, working) = _compiled ??= Compile();
        var total = 0.0;
        var firstDay = TimeZoneInfo.ConvertTime(from, zone).Date;
        var lastDay = TimeZoneInfo.ConvertTime(to, zone).Date;
        // Bounded: one step per local day between the two times, at most ten years of them.
        if (lastDay > firstDay.AddDays(MaxDays))
        {
            lastDay = firstDay.AddDays(MaxDays);
        }

        for (var day = firstDay; day <= lastDay; day = day.AddDays(1))
        {
            if (!working[(int)day.DayOfWeek])
            {
                continue;
            }

            // Local wall-clock times to instants in the zone (daylight saving applied per day).
            var open = new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(day + start, DateTimeKind.Unspecified), zone));
            var close = new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(day + end, DateTimeKind.Unspecified), zone));
            var overlapStart = open > from ? open : from;
            var overlapEnd = close < to ? close : to;
            if (overlapEnd > overlapStart)
            {
                total += (overlapEnd - overlapStart).TotalMinutes;
            }
        }

        return total;
    }

    /// <summary>The settings parsed once (the report calls <see cref="WorkingMinutes"/> once per lead); bound options do not change after start.</summary>
    private Compiled Compile()
    {
        TryTime(Start, out var start);
        TryTime(End, out var end);
        var working = new bool[7];
        foreach (var day in Days)
        {
            working[Array.IndexOf(DayNames, day.Trim().ToLowerInvariant())] = true;
        }

        return new Compiled(TimeZoneInfo.FindSystemTimeZoneById(TimeZone!), start, end, working);
    }

    private sealed record Compiled(TimeZoneInfo Zone, TimeSpan Start, TimeSpan End, bool[] Working);

    private static bool TryTime(string text, out TimeSpan time) =>
        TimeSpan.TryParseExact(text, @"hh\:mm", CultureInfo.InvariantCulture, out time) && time < TimeSpan.FromDays(1);
}
