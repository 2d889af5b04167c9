using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Npgsql;

namespace Ingest.LoadTests.Attribution;

/// <summary>
/// Times <c>GET /v1/reports/attribution</c> over the seeded window (every model, one request; the answer read to its
/// end): one unmeasured warm-up, then <c>rounds</c> measured requests. Each answer is checked as a user would: every
/// model's credits add up to the answer's conversions (to 1e-6). Prints the median.
/// </summary>
internal static class Measure
{
    public static async Task<int> RunAsync(NpgsqlDataSource db, string collector, string readKey, string conversion, int rounds)
    {
        long touches;
        await using (var count = db.CreateCommand("select count(*) from touches"))
        {
            touches = (long)(await count.ExecuteScalarAsync())!;
        }

        using var http = new HttpClient { BaseAddress = new Uri(collector), Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", readKey);
        var url = $"/v1/reports/attribution?from=2026-01-01T00:00:00Z&to=2026-04-01T00:00:00Z&conversion={conversion}";
        var (_, conversions, problem) = await TimeAsync(http, url);
        if (problem is not null)
        {
            Console.Error.WriteLine($"[attribution] warm-up: {problem}");
            return 1;
        }

        var seconds = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            var (elapsed, n, error) = await TimeAsync(http, url);
            if (error is not null)
            {
                Console.Error.WriteLine($"[attribution] round {round}: {error}");
                return 1;
            }

            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[attribution] round {round}: {n} conversions in {elapsed:F3} s"));
            seconds.Add(elapsed);
            conversions = n;
        }

        seconds.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"attribution: conversion={conversion} conversions={conversions} touches={touches} seconds={seconds[seconds.Count / 2]:F3} best_s={seconds[0]:F3}"));
        return 0;
    }

    private static async Task<(double Seconds, long Conversions, string? Problem)> TimeAsync(HttpClient http, string url)
    {
        var clock = Stopwatch.StartNew();
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsByteArrayAsync();
        var elapsed = clock.Elapsed.TotalSeconds;
        if (!response.IsSuccessStatusCode)
        {
            return (elapsed, 0, $"{(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
        }

        using var json = JsonDocument.Parse(body);
        var conversions = json.RootElement.GetProperty("conversions").GetInt64();
        var expected = json.RootElement.TryGetProperty("total", out var total) ? total.GetDouble() : conversions;
        foreach (var model in json.RootElement.GetProperty("models").EnumerateObject())
        {
            var sum = model.Value.EnumerateArray().Sum(static c => c.GetProperty("credit").GetDouble());
            if (Math.Abs(sum - expected) > 1e-6 * Math.Max(1, expected))
            {
                return (elapsed, conversions, $"model {model.Name}: credits add up to {sum}, not {expected}");
            }
        }

        return (elapsed, conversions, null);
    }
}
