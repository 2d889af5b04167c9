using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ingest.IntegrationTests.Doors;

using static Ingest.IntegrationTests.ReadSide;

namespace Ingest.IntegrationTests;

/// <summary>The collector with every door configured and the worker behind it.</summary>
public sealed class SourceDetailHost : PipelineHost
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>(base.Settings)
    {
        ["Webhooks:CallRail:SigningKeys:0"] = DoorsHost.CallRailKey,
        ["Webhooks:GoogleAds:Key"] = DoorsHost.GoogleKey,
        ["Webhooks:Meta:AppSecret"] = DoorsHost.MetaSecret,
        ["Webhooks:Meta:VerifyToken"] = DoorsHost.MetaVerifyToken,
        ["Forms:contact:RedirectUrl"] = "https://www.acme.com/thank-you",
        ["Forms:contact:AllowedOrigins:0"] = "https://www.acme.com",
    };
}

/// <summary>
/// Source detail and method through every kind of door, the worker and the read API, and the channel and funnel reports
/// grouped by them; the expected figures are counted by hand from the six leads below.
/// </summary>
public sealed class SourceDetailTests(SourceDetailHost host) : IClassFixture<SourceDetailHost>
{
    private const string Period = "from=2024-06-01T00:00:00Z&to=2024-07-01T00:00:00Z";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task EveryDoor_StoresSourceDetailAndMethod_ShownOnTheLead_AndCountedByTheReports()
    {
        using var writer = host.CreateClient(CollectorHost.WriteKey);
        using var reader = host.CreateClient(CollectorHost.ReadKey);
        using var anonymous = host.CreateClient();

        // Lead A, JSON API: a Google paid click → google, api.
        Assert.Equal(HttpStatusCode.Accepted, (await writer.PostAsync("/v1/touches", Json(
            """{"event_id":"sd-a","kind":"form","email":"ann@example.com","occurred_at":"2024-06-03T10:00:00Z","page_url":"https://acme.com/pricing?utm_source=google&utm_medium=cpc&utm_campaign=brand"}"""))).StatusCode);

        // Lead B, HTML form: the same Google click, posted by the page's form → google, web_form.
        using (var form = new HttpRequestMessage(HttpMethod.Post, "/v1/forms/contact")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["event_id"] = "sd-b", ["email"] = "bo@example.com", ["occurred_at"] = "2024-06-04T10:00:00Z",
                ["page_url"] = "https://www.acme.com/demo?utm_source=google&utm_medium=cpc&utm_campaign=brand",
            }),
        })
        {
            form.Headers.Add("Origin", "https://www.acme.com");
            form.Headers.Accept.ParseAdd("application/json");
            Assert.Equal(HttpStatusCode.Accepted, (await anonymous.SendAsync(form)).StatusCode);
        }

        // Lead C: a visit referred by Hacker News (news.ycombinator.com, visit), then a direct form through the API (no detail, api).
        Assert.Equal(HttpStatusCode.Accepted, (await writer.PostAsync("/v1/touches", Json(
            """{"event_id":"sd-c1","kind":"visit","anonymous_id":"anon-sd-c","occurred_at":"2024-06-05T10:00:00Z","page_url":"https://acme.com/","referrer":"https://news.ycombinator.com/item"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await writer.PostAsync("/v1/touches", Json(
            """{"event_id":"sd-c2","kind":"form","anonymous_id":"anon-sd-c","email":"cy@example.com","occurred_at":"2024-06-06T10:00:00Z","page_url":"https://acme.com/contact"}"""))).StatusCode);

        // Lead D, CallRail: a call to a tracking number with no digital signal → the tracking number, call_tracking.
        var call = """{"resource_id":"CALSD1","customer_phone_number":"+14155550177","tracking_phone_number":"+14045558514","start_time":"2024-06-07T10:00:00Z","duration":"61","answered":true}""";
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/callrail?event=post_call") { Content = Json(call) })
        {
            request.Headers.Add("Signature", Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(DoorsHost.CallRailKey), Encoding.UTF8.GetBytes(call))));
            Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(request)).StatusCode);
        }

        // Lead E, Meta Lead Ads: facebook, ad_form.
        var createdTime = new DateTimeOffset(2024, 6, 8, 10, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
        var meta = """{"object":"page","entry":[{"id":"1","time":TIME,"changes":[{"field":"leadgen","value":{"leadgen_id":"777000111","page_id":"1","form_id":"55","created_time":TIME}}]}]}"""
            .Replace("TIME", createdTime.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/meta") { Content = Json(meta) })
        {
            request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(DoorsHost.MetaSecret), Encoding.UTF8.GetBytes(meta))));
            Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(request)).StatusCode);
        }

        // Lead F, Google Ads lead form: google, ad_form.
        var googleLead = $$"""
            {"lead_id":"sd-google-1","google_key":"{{DoorsHost.GoogleKey}}","campaign_id":987,"lead_submit_time":"2024-06-09T10:00:00Z",
             "user_column_data":[{"column_id":"EMAIL","string_value":"fay@example.com"}]}
            """;
        Assert.Equal(HttpStatusCode.OK, (await anonymous.PostAsync("/v1/webhooks/google-ads", Json(googleLead))).StatusCode);

        await WaitForTouchCount(reader, "email=ann@example.com", 1);
        await WaitForTouchCount(reader, "email=bo@example.com", 1);
        await WaitForTouchCount(reader, "email=cy@example.com", 2);
        await WaitForTouchCount(reader, "phone=%2B14155550177", 1);
        await WaitForTouchCount(reader, "external_id=meta_lead:777000111", 1);
        await WaitForTouchCount(reader, "email=fay@example.com", 1);

        var ann = await reader.GetFromJsonAsync<JsonElement>("/v1/leads?email=ann@example.com");
        AssertTouch(ann, "first_touch", "sd-a", "google", "api");
        AssertTouch(ann, "latest_touch", "sd-a", "google", "api");
        AssertTouch(ann, "lead_created_touch", "sd-a", "google", "api");

        AssertTouch(await reader.GetFromJsonAsync<JsonElement>("/v1/leads?email=bo@example.com"), "first_touch", "sd-b", "google", "web_form");

        var cy = await reader.GetFromJsonAsync<JsonElement>("/v1/leads?email=cy@example.com");
        AssertTouch(cy, "first_touch", "sd-c1", "news.ycombinator.com", "visit");
        AssertTouch(cy, "latest_touch", "sd-c2", null, "api");
        AssertTouch(cy, "lead_created_touch", "sd-c2", null, "api");
        Assert.Equal(["news.ycombinator.com", null], cy.GetProperty("touches").EnumerateArray().Select(t => t.TryGetProperty("source_detail", out var d) ? d.GetString() : null));

        var caller = await reader.GetFromJsonAsync<JsonElement>("/v1/leads?phone=%2B14155550177");
        AssertTouch(caller, "first_touch", "callrail:CALSD1:post_call", "+14045558514", "call_tracking");
        AssertTouch(caller, "latest_touch", "callrail:CALSD1:post_call", "+14045558514", "call_tracking");
        Assert.Equal("offline", caller.GetProperty("first_touch").GetProperty("channel").GetString());

        AssertTouch(await reader.GetFromJsonAsync<JsonElement>("/v1/leads?external_id=meta_lead:777000111"), "first_touch", "meta:777000111", "facebook", "ad_form");
        AssertTouch(await reader.GetFromJsonAsync<JsonElement>("/v1/leads?email=fay@example.com"), "latest_touch", "google_ads:sd-google-1", "google", "ad_form");

        // Channel report by method. First touches: A api, B web_form, C visit, D call_tracking, E and F ad_form; none direct or other.
        var byMethod = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/channels?{Period}&touch=first&group_by=method");
        Assert.Equal("method", byMethod.GetProperty("group_by").GetString());
        Assert.Equal(6, byMethod.GetProperty("leads").GetInt64());
        Assert.Equal(Counts(("ad_form", 2), ("api", 1), ("call_tracking", 1), ("visit", 1), ("web_form", 1)), Counts(byMethod));
        Assert.Equal(0, byMethod.GetProperty("unattributed_share").GetDouble());
        Assert.Equal("ad_form", byMethod.GetProperty("channels")[0].GetProperty("channel").GetString());
        Assert.Equal(0.3333, byMethod.GetProperty("channels")[0].GetProperty("share").GetDouble(), 4);

        // Lead-creation touches: C's is its direct API form, so 1 of 6 is unattributed whatever the grouping.
        var createdByMethod = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/channels?{Period}&touch=lead_created&group_by=method");
        Assert.Equal(Counts(("ad_form", 2), ("api", 2), ("call_tracking", 1), ("web_form", 1)), Counts(createdByMethod));
        Assert.Equal(0.1667, createdByMethod.GetProperty("unattributed_share").GetDouble(), 4);

        var byDetail = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/channels?{Period}&touch=first&group_by=source_detail");
        Assert.Equal(Counts(("+14045558514", 1), ("facebook", 1), ("google", 3), ("news.ycombinator.com", 1)), Counts(byDetail));
        var createdByDetail = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/channels?{Period}&touch=lead_created&group_by=source_detail");
        Assert.Equal(Counts(("(none)", 1), ("+14045558514", 1), ("facebook", 1), ("google", 3)), Counts(createdByDetail));

        var byChannel = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/channels?{Period}&touch=first");
        Assert.Equal("channel", byChannel.GetProperty("group_by").GetString());
        Assert.Equal(Counts(("offline", 1), ("paid_search", 3), ("paid_social", 1), ("referral", 1)), Counts(byChannel));

        // The funnel over the same six leads (all created in June 2024), grouped the same ways.
        var funnelByMethod = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/funnel?{Period}&touch=first&group_by=method");
        Assert.Equal("method", funnelByMethod.GetProperty("group_by").GetString());
        Assert.Equal(Counts(("ad_form", 2), ("api", 1), ("call_tracking", 1), ("visit", 1), ("web_form", 1)), FunnelCounts(funnelByMethod));
        Assert.Equal(6, funnelByMethod.GetProperty("totals").GetProperty("leads").GetInt64());
        var funnelByDetail = await reader.GetFromJsonAsync<JsonElement>($"/v1/reports/funnel?{Period}&touch=lead_created&group_by=source_detail");
        Assert.Equal("source_detail", funnelByDetail.GetProperty("group_by").GetString());
        Assert.Equal(Counts(("(none)", 1), ("+14045558514", 1), ("facebook", 1), ("google", 3)), FunnelCounts(funnelByDetail));

        foreach (var path in new[] { $"/v1/reports/channels?{Period}&group_by=owner", $"/v1/reports/funnel?{Period}&group_by=tracking_number" })
        {
            var bad = await reader.GetAsync(path);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
            var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("group_by", problem.GetProperty("field").GetString());
            Assert.Contains("source_detail", problem.GetProperty("detail").GetString());
        }
    }

    private static void AssertTouch(JsonElement lead, string which, string eventId, string? sourceDetail, string method)
    {
        var touch = lead.GetProperty(which);
        Assert.Equal(eventId, touch.GetProperty("event_id").GetString());
        Assert.Equal(sourceDetail, touch.TryGetProperty("source_detail", out var detail) ? detail.GetString() : null);
        Assert.Equal(method, touch.GetProperty("method").GetString());
    }

    private static string FunnelCounts(JsonElement report) =>
        string.Join(",", report.GetProperty("groups").EnumerateArray()
            .Select(g => (Group: g.GetProperty("group").GetString()!, Leads: g.GetProperty("leads").GetInt64()))
            .OrderBy(g => g.Group, StringComparer.Ordinal).Select(g => $"{g.Group}={g.Leads}"));
}
