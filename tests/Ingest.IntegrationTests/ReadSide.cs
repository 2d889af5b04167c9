using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Ingest.IntegrationTests;

/// <summary>What the pipeline tests read back through the read API: a bounded wait for a lead's touches, and a channel report's counts as one comparable line.</summary>
internal static class ReadSide
{
    /// <summary>Polls <c>GET /v1/leads?{query}</c> until the lead has <paramref name="count"/> touches (at most 15 s).</summary>
    public static async Task WaitForTouchCount(HttpClient reader, string query, int count)
    {
        for (var i = 0; i < 150; i++)
        {
            var response = await reader.GetAsync("/v1/leads?" + query);
            if (response.StatusCode == HttpStatusCode.OK && (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("touch_count").GetInt32() == count)
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"The lead {query} never reached {count} touches.");
    }

    /// <summary>Expected groups and lead counts as <c>group=leads,…</c> in group order.</summary>
    public static string Counts(params (string Group, long Leads)[] expected) =>
        string.Join(",", expected.OrderBy(e => e.Group, StringComparer.Ordinal).Select(e => $"{e.Group}={e.Leads}"));

    /// <summary>A channel report's rows as <c>group=leads,…</c> in group order.</summary>
    public static string Counts(JsonElement report) =>
        string.Join(",", report.GetProperty("channels").EnumerateArray()
            .Select(c => (Group: c.GetProperty("channel").GetString()!, Leads: c.GetProperty("leads").GetInt64()))
            .OrderBy(c => c.Group, StringComparer.Ordinal).Select(c => $"{c.Group}={c.Leads}"));
}
