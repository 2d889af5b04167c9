using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

// load-tests/run.sh pipeline: measures the binary COPY ceiling of touch rows, then pushes a fixed number of touches
// (repeated identities, deliberate duplicates, late earlier-dated touches) through the real pipeline as fast as it
// takes them, waits for the worker to drain, checks every acknowledged event id is stored exactly once, and finally
// runs a paced phase to measure acceptance-to-visibility lag (commit timestamp − received_at).
var options = Options.Parse(args);
var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
    ?? "Host=127.0.0.1;Port=55432;Username=ingest;Password=ingest;Database=ingest";
await using var db = NpgsqlDataSource.Create(connectionString);

var ceiling = await CopyCeiling.MeasureAsync(db, Math.Min(options.Touches, 200_000));
Console.Error.WriteLine($"[pipeline] COPY ceiling: {ceiling:F0} rows/s");

var run = $"lt{DateTime.UtcNow:MMddHHmmss}";
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
{
    BaseAddress = new Uri(options.Collector),
    Timeout = TimeSpan.FromSeconds(30),
};
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.WriteKey);

// Phase 1: as fast as the pipeline sustains.
var generator = new TouchGenerator(run, seed: 42);
var sender = new Sender(http, options.Concurrency);
var started = Stopwatch.GetTimestamp();
var acked = await sender.SendAsync(generator.Batches(options.Touches, 100), pacePerSecond: null);
var sendSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
Console.Error.WriteLine($"[pipeline] sent {generator.Sent} touches ({generator.Duplicates} deliberate duplicates, {generator.LateEarlier} late earlier-dated) in {sendSeconds:F1}s; {acked.Count} distinct event ids acknowledged, {sender.Failed} not");

var drained = await Drain.WaitAsync(db, run, acked.Count, TimeSpan.FromMinutes(5));
var totalSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
var (stored, distinct, missing) = await Verify.ExactlyOnceAsync(db, run, acked);
var throughput = distinct / totalSeconds;
Console.Error.WriteLine($"[pipeline] drained={drained} stored={stored} distinct={distinct} in {totalSeconds:F1}s → {throughput:F0} touches/s end to end");

// Phase 2: paced, to measure how soon an accepted touch is visible (what the read API serves).
var pacedRun = run + "p";
var paced = new TouchGenerator(pacedRun, seed: 7);
var pacedCount = options.Rate * options.PacedSeconds;
var pacedAcked = await new Sender(http, options.Concurrency).SendAsync(paced.Batches(pacedCount, 50), pacePerSecond: options.Rate);
await Drain.WaitAsync(db, pacedRun, pacedAcked.Count, TimeSpan.FromMinutes(2));
var lagP99 = await Verify.LagPercentileMsAsync(db, pacedRun, 0.99);
var lagP50 = await Verify.LagPercentileMsAsync(db, pacedRun, 0.50);
var (_, _, pacedMissing) = await Verify.ExactlyOnceAsync(db, pacedRun, pacedAcked);
Console.Error.WriteLine($"[pipeline] paced {options.Rate}/s for {options.PacedSeconds}s: lag p50 {lagP50:F0} ms, p99 {lagP99:F0} ms");

Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
    $"pipeline: touches/s={throughput:F0} copy_ceiling/s={ceiling:F0} ratio={throughput / ceiling:F2} lag_p99_ms={lagP99:F0} lost={missing + pacedMissing} duplicates={stored - distinct}"));

internal sealed record Options(int Touches, int Rate, int PacedSeconds, int Concurrency, string Collector, string WriteKey)
{
    public static Options Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        return new Options(
            int.Parse(Get("touches", "300000"), System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(Get("rate", "5000"), System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(Get("paced-seconds", "20"), System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(Get("concurrency", "8"), System.Globalization.CultureInfo.InvariantCulture),
            Get("collector", "http://127.0.0.1:8080"),
            Get("write-key", "load-write-key"));
    }
}

/// <summary>Touch bodies with repeated identities, deliberate duplicates (resent event ids) and late earlier-dated touches.</summary>
internal sealed class TouchGenerator(string run, int seed)
{
    private static readonly string[][] Sources =
    [
        ["google", "cpc", "brand_search", "gclid"],
        ["facebook", "paid_social", "retargeting", "fbclid"],
        ["newsletter", "email", "nov_update", ""],
        ["bing", "cpc", "competitors", "msclkid"],
        ["chatgpt.com", "referral", "", ""],
    ];

    private readonly Random _random = new(seed);
    private readonly DateTimeOffset _base = DateTimeOffset.UtcNow.AddDays(-1);
    public int Sent { get; private set; }
    public int Duplicates { get; private set; }
    public int LateEarlier { get; private set; }

    public IEnumerable<byte[]> Batches(int touches, int perBatch)
    {
        var sb = new StringBuilder(perBatch * 600);
        var next = 0;
        while (Sent < touches)
        {
            sb.Clear().Append("{\"touches\":[");
            var inBatch = Math.Min(perBatch, touches - Sent);
            for (var j = 0; j < inBatch; j++)
            {
                int n;
                if (next > 1000 && _random.Next(100) < 3)
                {
                    n = next - _random.Next(1, 1000); // a deliberate duplicate: same event id, resent
                    Duplicates++;
                }
                else
                {
                    n = next++;
                }

                var late = _random.Next(100) < 5;
                if (late)
                {
                    LateEarlier++;
                }

                var occurred = _base.AddSeconds(late ? n / 10.0 - 86_400 : n / 10.0);
                var s = Sources[n % Sources.Length];
                var identity = n % 20_000; // repeated identities: each person comes back ~15 times in 300k touches
                if (j > 0)
                {
                    sb.Append(',');
                }

                sb.Append("{\"event_id\":\"").Append(run).Append('-').Append(n)
                    .Append("\",\"kind\":\"").Append(n % 7 == 0 ? "call" : "form")
                    .Append("\",\"occurred_at\":\"").Append(occurred.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture))
                    .Append("\",\"anonymous_id\":\"").Append(run).Append("-anon-").Append(identity);
                if (n % 3 == 0)
                {
                    sb.Append("\",\"email\":\"person").Append(identity).Append('@').Append(run).Append(".example.com");
                }

                sb.Append("\",\"page_url\":\"https://www.example.com/pricing?utm_source=").Append(s[0]).Append("&utm_medium=").Append(s[1]);
                if (s[2].Length > 0)
                {
                    sb.Append("&utm_campaign=").Append(s[2]);
                }

                if (s[3].Length > 0)
                {
                    sb.Append('&').Append(s[3]).Append("=Cj0KCQ").Append(n);
                }

                sb.Append("\",\"referrer\":\"https://www.").Append(s[0]).Append("/\",\"properties\":{\"form_id\":\"demo\",\"company\":\"Acme ")
                    .Append(identity).Append("\"}}");
                Sent++;
            }

            sb.Append("]}");
            yield return Encoding.UTF8.GetBytes(sb.ToString());
        }
    }
}

/// <summary>Posts batches with bounded concurrency and records every acknowledged event id.</summary>
internal sealed class Sender(HttpClient http, int concurrency)
{
    private readonly HashSet<string> _acked = [];
    private int _failed;
    public int Failed => _failed;

    public async Task<HashSet<string>> SendAsync(IEnumerable<byte[]> batches, int? pacePerSecond)
    {
        using var gate = new SemaphoreSlim(concurrency);
        var tasks = new List<Task>();
        var clock = Stopwatch.StartNew();
        long sent = 0;
        foreach (var body in batches)
        {
            if (pacePerSecond is { } pace)
            {
                // Pace by touches: wait until this batch is due.
                var due = TimeSpan.FromSeconds((double)sent / pace);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed);
                }
            }

            sent += CountTouches(body);
            await gate.WaitAsync();
            tasks.Add(PostAsync(body, gate));
            tasks.RemoveAll(static t => t.IsCompleted);
        }

        await Task.WhenAll(tasks);
        return _acked;
    }

    private static int CountTouches(byte[] body) => body.AsSpan().Count("\"event_id\""u8);

    private async Task PostAsync(byte[] body, SemaphoreSlim gate)
    {
        try
        {
            for (var attempt = 0; attempt < 5; attempt++)
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await http.PostAsync("/v1/touches/batch", content);
                using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
                var unavailable = 0;
                lock (_acked)
                {
                    foreach (var item in json.RootElement.GetProperty("results").EnumerateArray())
                    {
                        var status = item.GetProperty("status").GetString();
                        if (status == "accepted")
                        {
                            _acked.Add(item.GetProperty("event_id").GetString()!);
                        }
                        else if (status == "unavailable")
                        {
                            unavailable++;
                        }
                        else
                        {
                            _failed++;
                        }
                    }
                }

                if (unavailable == 0)
                {
                    return;
                }

                // Retrying the whole batch with the same event ids is safe: duplicates are stored once.
                await Task.Delay(500);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException or KeyNotFoundException)
        {
            Interlocked.Increment(ref _failed);
        }
        finally
        {
            gate.Release();
        }
    }
}

internal static class CopyCeiling
{
    /// <summary>Binary COPY of touch-shaped rows (same columns and sizes) into a scratch copy of the touches table.</summary>
    public static async Task<double> MeasureAsync(NpgsqlDataSource db, int rows)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using (var create = new NpgsqlCommand("drop table if exists load_copy_scratch; create table load_copy_scratch (like touches including defaults)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        var columns = new List<(string Name, string Type)>();
        await using (var describe = new NpgsqlCommand(
            "select column_name, data_type from information_schema.columns where table_name = 'load_copy_scratch' order by ordinal_position", connection))
        await using (var reader = await describe.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                columns.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        var record = """{"event_id":"x","kind":"form","door":"api","identities":{"email":"person1@example.com","anonymous_id":"anon-1"},"attribution":{"raw":{"source":"google","medium":"cpc"},"source":"google","medium":"paid_search","campaign":"brand","channel":"paid_search","ga4_channel":"Paid Search","violations":[]},"properties":{"form_id":"demo","company":"Acme 1"}}""";
        var leadId = Guid.NewGuid();
        var now = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        await using (var import = await connection.BeginBinaryImportAsync($"copy load_copy_scratch ({string.Join(',', columns.Select(c => c.Name))}) from stdin (format binary)"))
        {
            for (var i = 0; i < rows; i++)
            {
                await import.StartRowAsync();
                foreach (var (name, type) in columns)
                {
                    switch (type)
                    {
                        case "text": await import.WriteAsync(name == "event_id" ? "copy-" + i : name, NpgsqlDbType.Text); break;
                        case "uuid": await import.WriteAsync(leadId, NpgsqlDbType.Uuid); break;
                        case "timestamp with time zone": await import.WriteAsync(now, NpgsqlDbType.TimestampTz); break;
                        case "integer": await import.WriteAsync(i, NpgsqlDbType.Integer); break;
                        case "bigint": await import.WriteAsync((long)i, NpgsqlDbType.Bigint); break;
                        case "boolean": await import.WriteAsync(false, NpgsqlDbType.Boolean); break;
                        case "jsonb": await import.WriteAsync(record, NpgsqlDbType.Jsonb); break;
                        default: await import.WriteNullAsync(); break;
                    }
                }
            }

            await import.CompleteAsync();
        }

        var elapsed = clock.Elapsed.TotalSeconds;
        await using (var drop = new NpgsqlCommand("drop table load_copy_scratch", connection))
        {
            await drop.ExecuteNonQueryAsync();
        }

        return rows / elapsed;
    }
}

internal static class Drain
{
    /// <summary>Waits until the run's stored touches reach the expected count, or stop growing for 30 s.</summary>
    public static async Task<bool> WaitAsync(NpgsqlDataSource db, string run, int expected, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        long last = -1;
        var lastChange = clock.Elapsed;
        while (clock.Elapsed < limit)
        {
            await using var count = db.CreateCommand("select count(*) from touches where event_id like $1");
            count.Parameters.AddWithValue(run + "-%");
            var stored = (long)(await count.ExecuteScalarAsync())!;
            if (stored >= expected)
            {
                return true;
            }

            if (stored != last)
            {
                last = stored;
                lastChange = clock.Elapsed;
            }
            else if (clock.Elapsed - lastChange > TimeSpan.FromSeconds(30))
            {
                return false;
            }

            await Task.Delay(100);
        }

        return false;
    }
}

internal static class Verify
{
    /// <summary>Rows stored for the run, distinct event ids, and acknowledged event ids that are missing.</summary>
    public static async Task<(long Stored, long Distinct, int Missing)> ExactlyOnceAsync(NpgsqlDataSource db, string run, HashSet<string> acked)
    {
        var seen = new Dictionary<string, int>(acked.Count);
        await using (var select = db.CreateCommand("select event_id from touches where event_id like $1"))
        {
            select.Parameters.AddWithValue(run + "-%");
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var id = reader.GetString(0);
                seen[id] = seen.GetValueOrDefault(id) + 1;
            }
        }

        var stored = seen.Values.Sum(static v => (long)v);
        var missing = acked.Count(id => !seen.ContainsKey(id));
        return (stored, seen.Count, missing);
    }

    /// <summary>Percentile of (commit time of the row's transaction − time the collector received the touch).</summary>
    public static async Task<double> LagPercentileMsAsync(NpgsqlDataSource db, string run, double percentile)
    {
        await using var select = db.CreateCommand(
            "select percentile_cont($2) within group (order by extract(epoch from (pg_xact_commit_timestamp(xmin) - received_at)) * 1000) from touches where event_id like $1");
        select.Parameters.AddWithValue(run + "-%");
        select.Parameters.AddWithValue(percentile);
        return await select.ExecuteScalarAsync() is double value ? value : double.NaN;
    }
}
