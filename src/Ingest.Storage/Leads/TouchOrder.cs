namespace Ingest.Storage.Leads;

/// <summary>Orders touches as Postgres does: by time, then by event id byte-wise (the column's "C" collation).</summary>
internal static class TouchOrder
{
    public static readonly IComparer<(DateTimeOffset At, string EventId)> Comparer =
        Comparer<(DateTimeOffset At, string EventId)>.Create(static (a, b) =>
        {
            var byTime = a.At.CompareTo(b.At);
            return byTime != 0 ? byTime : CompareCodePoints(a.EventId, b.EventId);
        });

    public static bool Before((DateTimeOffset At, string EventId) a, (DateTimeOffset At, string EventId) b) => Comparer.Compare(a, b) < 0;

    // UTF-8 byte order is code point order; UTF-16 ordinal order differs from it only beyond the BMP.
    private static int CompareCodePoints(string a, string b)
    {
        var x = a.EnumerateRunes();
        var y = b.EnumerateRunes();
        while (true)
        {
            var (hasX, hasY) = (x.MoveNext(), y.MoveNext());
            if (!hasX || !hasY)
            {
                return hasX.CompareTo(hasY);
            }

            var byRune = x.Current.Value.CompareTo(y.Current.Value);
            if (byRune != 0)
            {
                return byRune;
            }
        }
    }
}
