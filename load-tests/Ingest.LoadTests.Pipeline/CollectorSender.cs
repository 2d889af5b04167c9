using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Ingest.LoadTests.Pipeline;

/// <summary>
/// Posts batches to <c>/v1/touches/batch</c> with bounded concurrency and records every acknowledged event id. A batch
/// with unavailable items (503: Kafka did not acknowledge in time), a timeout or a failed connection is sent again
/// with the same event ids, as the docs tell clients to, up to <paramref name="attempts"/> times.
/// </summary>
internal sealed class CollectorSender(HttpClient http, int concurrency, int attempts = 5)
{
    private readonly HashSet<string> _acked = [];
    private readonly Dictionary<string, int> _refusals = []; // status:code → touches, under the _acked lock
    private int _failed;
    private int _retried;

    /// <summary>Touches never acknowledged (refused, or still unavailable after the last attempt).</summary>
    public int Failed => _failed;

    /// <summary>Refused touches by status and first error code, e.g. "rejected:in_future=12".</summary>
    public string Refusals()
    {
        lock (_acked)
        {
            return _refusals.Count == 0 ? "none refused" : string.Join(", ", _refusals.OrderByDescending(static r => r.Value).Select(static r => $"{r.Key}={r.Value}"));
        }
    }

    /// <summary>Batches sent again.</summary>
    public int Retried => _retried;

    /// <summary>Distinct event ids acknowledged so far (the set <see cref="SendAsync"/> returns, also after it threw).</summary>
    public HashSet<string> Acknowledged => _acked;

    private int AcknowledgedCount
    {
        get
        {
            lock (_acked)
            {
                return _acked.Count;
            }
        }
    }

    public async Task<HashSet<string>> SendAsync(TouchGenerator generator, int touches, int perBatch, int? pacePerSecond, Backlog? backlog)
    {
        using var gate = new SemaphoreSlim(concurrency);
        var tasks = new List<Task>();
        var clock = Stopwatch.StartNew();
        var body = new StringBuilder(perBatch * 700);
        while (generator.Sent < touches)
        {
            if (pacePerSecond is { } pace)
            {
                var due = TimeSpan.FromSeconds((double)generator.Sent / pace);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed);
                }
            }

            if (backlog is not null)
            {
                // Acknowledged distinct ids, not touches sent: deliberate duplicates and never-acknowledged touches
                // are never stored as extra rows, so counting them would close the bound for good.
                try
                {
                    await backlog.WaitForRoomAsync(AcknowledgedCount);
                }
                catch (BacklogStalledException)
                {
                    await Task.WhenAll(tasks);
                    throw;
                }
            }

            body.Clear().Append("{\"touches\":[");
            var inBatch = Math.Min(perBatch, touches - generator.Sent);
            for (var i = 0; i < inBatch; i++)
            {
                body.Append(i == 0 ? "" : ",").Append(generator.Next());
            }

            var bytes = Encoding.UTF8.GetBytes(body.Append("]}").ToString());
            await gate.WaitAsync();
            tasks.Add(PostAsync(bytes, gate));
            tasks.RemoveAll(static t => t.IsCompleted);
        }

        await Task.WhenAll(tasks);
        return _acked;
    }

    private async Task PostAsync(byte[] body, SemaphoreSlim gate)
    {
        try
        {
            for (var attempt = 1; attempt <= attempts; attempt++)
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                HttpResponseMessage response;
                try
                {
                    response = await http.PostAsync("/v1/touches/batch", content);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && attempt < attempts)
                {
                    Interlocked.Increment(ref _retried);
                    await Task.Delay(500);
                    continue;
                }

                using var _ = response;
                using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
                var unavailable = 0;
                lock (_acked)
                {
                    foreach (var item in json.RootElement.GetProperty("results").EnumerateArray())
                    {
                        switch (item.GetProperty("status").GetString())
                        {
                            case "accepted":
                                _acked.Add(item.GetProperty("event_id").GetString()!);
                                break;
                            case "unavailable":
                                unavailable++;
                                break;
                            default:
                                _failed++;
                                var code = item.TryGetProperty("errors", out var errors) && errors.GetArrayLength() > 0
                                    && errors[0].TryGetProperty("code", out var c) ? c.GetString() : null;
                                var reason = $"{item.GetProperty("status").GetString()}:{code}";
                                _refusals[reason] = _refusals.GetValueOrDefault(reason) + 1;
                                break;
                        }
                    }
                }

                if (unavailable == 0)
                {
                    return;
                }

                // Retrying the whole batch with the same event ids is safe: duplicates are stored once.
                Interlocked.Increment(ref _retried);
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
