using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ingest.Collector.Webhooks.CallRail;

namespace Ingest.IntegrationTests.Doors;

public sealed class WebhookTests(DoorsHost host) : IClassFixture<DoorsHost>
{
    private JsonElement RecordOf(string eventId)
    {
        var message = host.Kafka.FindEvent(host.Topic, eventId);
        return JsonDocument.Parse(message.Message.Value).RootElement.Clone();
    }

    private static StringContent Body(string text, string contentType = "application/json") => new(text, Encoding.UTF8, contentType);

    [Fact]
    public void CallRailSignature_PublishedVector_Verifies()
    {
        var body = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Samples", "callrail-published-vector-body.json"));
        Assert.True(CallRailSignature.IsValid([DoorsHost.CallRailKey], body, "UZAHbUdfm3GqL7qzilGozGzWV64="));
        Assert.False(CallRailSignature.IsValid(["another-key"], body, "UZAHbUdfm3GqL7qzilGozGzWV64="));
    }

    [Fact]
    public void TwilioSignature_PublishedVector_VerifiesWithAndWithoutDefaultPort()
    {
        var parameters = new Dictionary<string, string[]>
        {
            ["CallSid"] = ["CA1234567890ABCDE"], ["Caller"] = ["+12349013030"], ["Digits"] = ["1234"], ["From"] = ["+12349013030"], ["To"] = ["+18005551212"],
        };
        Assert.True(Ingest.Collector.Webhooks.Twilio.TwilioSignature.IsValid("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", parameters, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        Assert.True(Ingest.Collector.Webhooks.Twilio.TwilioSignature.IsValid("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", parameters, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        Assert.False(Ingest.Collector.Webhooks.Twilio.TwilioSignature.IsValid("54321", "https://mycompany.com/myapp.php?foo=1&bar=2", parameters, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
    }

    [Fact]
    public async Task CallRail_PublishedVectorPayload_BecomesACallTouchWithDerivedEventId()
    {
        using var client = host.CreateClient();
        var body = DoorsHost.Sample("callrail-published-vector-body.json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/callrail?event=post_call") { Content = Body(body) };
        request.Headers.Add("Signature", "UZAHbUdfm3GqL7qzilGozGzWV64=");
        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = RecordOf("callrail:766970532:post_call");
        Assert.Equal("call", record.GetProperty("kind").GetString());
        Assert.Equal("callrail", record.GetProperty("door").GetString());
        Assert.Equal("+12148654559", record.GetProperty("identities").GetProperty("phone").GetString());
        Assert.Equal("+14045558514", record.GetProperty("provider").GetProperty("tracking_phone_number").GetString());
        Assert.Equal("13", record.GetProperty("provider").GetProperty("duration").GetString());
        Assert.Equal(new DateTimeOffset(2018, 2, 19, 18, 41, 0, 236, TimeSpan.Zero), record.GetProperty("occurred_at").GetDateTimeOffset());
    }

    [Fact]
    public async Task CallRail_RedeliveredSameEvent_HasTheSameEventId()
    {
        using var client = host.CreateClient();
        var body = """{"resource_id":"CAL123","customer_phone_number":"+14155550123","start_time":"2026-11-20T10:00:00.000-05:00","duration":"42","source":"Google Ads","medium":"cpc","campaign":"brand","gclid":"GcLiD-1","landing_page_url":"https://www.acme.com/?utm_source=google"}""";
        var signature = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(DoorsHost.CallRailKey), Encoding.UTF8.GetBytes(body)));
        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/callrail?event=post_call") { Content = Body(body) };
            request.Headers.Add("Signature", signature);
            var response = await client.SendAsync(request);
            var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("callrail:CAL123:post_call", accepted.GetProperty("event_ids")[0].GetString());
        }

        var record = RecordOf("callrail:CAL123:post_call");
        Assert.Equal("GcLiD-1", record.GetProperty("attribution").GetProperty("click_id").GetString());
        Assert.Equal("paid_search", record.GetProperty("attribution").GetProperty("channel").GetString());
    }

    private async Task<HttpResponseMessage> PostCallRail(string body, string query = "")
    {
        using var client = host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/callrail" + query) { Content = Body(body) };
        request.Headers.Add("Signature", Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(DoorsHost.CallRailKey), Encoding.UTF8.GetBytes(body))));
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task CallRail_PreCallThenPostCallWithoutEventParameter_AreTwoDistinctTouches()
    {
        var pre = await PostCallRail("""{"resource_id":"CAL900","customer_phone_number":"+14155550900","answered":false,"call_type":"missed","duration":"0","start_time":"2026-11-20T10:00:00Z"}""");
        var post = await PostCallRail("""{"resource_id":"CAL900","customer_phone_number":"+14155550900","answered":true,"call_type":"answered","duration":"95","recording":"https://app.callrail.com/r","gclid":"G-900","start_time":"2026-11-20T10:00:00Z"}""");
        Assert.Equal("callrail:CAL900:pre_call", (await pre.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("event_ids")[0].GetString());
        Assert.Equal("callrail:CAL900:post_call", (await post.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("event_ids")[0].GetString());
        Assert.Equal("G-900", RecordOf("callrail:CAL900:post_call").GetProperty("attribution").GetProperty("click_id").GetString());
    }

    [Fact]
    public async Task CallRail_FormSubmission_KeepsFormFieldsAsProperties()
    {
        var response = await PostCallRail("""{"resource_id":"FRM77","form_data":{"Email":"lead@example.com","Name":"Lee","Company":"Acme"},"form_url":"https://acme.com/contact?utm_source=google&utm_medium=cpc&utm_campaign=brand","submitted_at":"2026-11-20T10:00:00Z"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = RecordOf("callrail:FRM77:form_submission");
        Assert.Equal("form", record.GetProperty("kind").GetString());
        Assert.Equal("lead@example.com", record.GetProperty("identities").GetProperty("email").GetString());
        Assert.Equal("Acme", record.GetProperty("properties").GetProperty("company").GetString());
    }

    [Fact]
    public async Task CallRail_NoResourceId_Returns422_UnknownEvent_Returns400()
    {
        await TouchesApiTests.AssertProblem(await PostCallRail("""{"customer_phone_number":"+14155550900"}"""), HttpStatusCode.UnprocessableEntity, "validation");
        var problem = await TouchesApiTests.AssertProblem(await PostCallRail("""{"resource_id":"CAL1"}""", "?event=text_message_received"), HttpStatusCode.BadRequest, "bad-query");
        Assert.Equal("event", problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Twilio_AnonymousCaller_StillAnswersTwimlAndKeepsTheTouch()
    {
        using var client = host.CreateClient();
        var form = new Dictionary<string, string> { ["CallSid"] = "CA" + Guid.NewGuid().ToString("N"), ["From"] = "+266696687", ["To"] = "+18005551212" };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/twilio") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("X-Twilio-Signature", TwilioSignature("http://localhost/v1/webhooks/twilio", form));
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("twilio_call:" + form["CallSid"], RecordOf("twilio:" + form["CallSid"]).GetProperty("identities").GetProperty("external_id").GetString());
    }

    [Theory] // found by the fuzz run: each answered 500 (the text was only decoded when the mapping read it)
    [InlineData(new byte[] { 0xFF })] // invalid UTF-8
    [InlineData(new byte[] { 0xC3, 0x28 })] // a lead byte without its continuation
    [InlineData(new byte[] { (byte)'\\', (byte)'u', (byte)'d', (byte)'8', (byte)'0', (byte)'0' })] // a lone surrogate escape
    [InlineData(new byte[] { (byte)'\\', (byte)'u', (byte)'d', (byte)'8', (byte)'0', (byte)'0', (byte)'\\', (byte)'u', (byte)'0', (byte)'0', (byte)'4', (byte)'1' })]
    public async Task Webhooks_StringThatIsNotUnicode_Returns400Problem(byte[] text)
    {
        using var client = host.CreateClient();
        byte[] Body(string before, string after) => [.. Encoding.UTF8.GetBytes(before), .. text, .. Encoding.UTF8.GetBytes(after)];

        var google = Body($$"""{"google_key":"{{DoorsHost.GoogleKey}}","lead_id":"L-""", "\",\"user_column_data\":[]}");
        var googleResponse = await client.PostAsync("/v1/webhooks/google-ads", new ByteArrayContent(google) { Headers = { ContentType = new("application/json") } });
        await TouchesApiTests.AssertProblem(googleResponse, HttpStatusCode.BadRequest, "malformed-request");

        var meta = Body("""{"object":"page","entry":[{"changes":[{"field":"leadgen","value":{"leadgen_id":"M-""", "\"}}]}]}");
        using var metaRequest = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/meta") { Content = new ByteArrayContent(meta) { Headers = { ContentType = new("application/json") } } };
        metaRequest.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(DoorsHost.MetaSecret), meta)));
        await TouchesApiTests.AssertProblem(await client.SendAsync(metaRequest), HttpStatusCode.BadRequest, "malformed-request");

        var callRail = Body("""{"resource_id":"C-""", "\",\"customer_phone_number\":\"+14155550100\"}");
        using var callRailRequest = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/callrail?event=post_call") { Content = new ByteArrayContent(callRail) { Headers = { ContentType = new("application/json") } } };
        callRailRequest.Headers.Add("Signature", Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(DoorsHost.CallRailKey), callRail)));
        await TouchesApiTests.AssertProblem(await client.SendAsync(callRailRequest), HttpStatusCode.BadRequest, "malformed-request");
    }

    [Fact]
    public async Task GoogleAds_UnusablePhone_KeepsTheLeadWithItsEmail()
    {
        using var client = host.CreateClient();
        var body = DoorsHost.Sample("google-ads-lead.json").Replace("+1 (415) 555-0199", "call me maybe", StringComparison.Ordinal).Replace("TeSt_LeAd_iD-42", "lead-bad-phone", StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/webhooks/google-ads", Body(body))).StatusCode);
        var record = RecordOf("google_ads:lead-bad-phone");
        Assert.Equal("grace@example.com", record.GetProperty("identities").GetProperty("email").GetString());
        Assert.False(record.GetProperty("identities").TryGetProperty("phone", out _));
    }

    [Theory]
    [InlineData("tampered")]
    [InlineData("wrong-key")]
    [InlineData("missing")]
    public async Task CallRail_BadSignature_Returns401Problem(string variant)
    {
        using var client = host.CreateClient();
        var body = DoorsHost.Sample("callrail-published-vector-body.json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/callrail")
        {
            Content = Body(variant == "tampered" ? body.Replace("Kaylah", "Mallory", StringComparison.Ordinal) : body),
        };
        if (variant != "missing")
        {
            request.Headers.Add("Signature", variant == "wrong-key"
                ? Convert.ToBase64String(HMACSHA1.HashData("wrong"u8, Encoding.UTF8.GetBytes(body)))
                : "UZAHbUdfm3GqL7qzilGozGzWV64=");
        }

        var problem = await TouchesApiTests.AssertProblem(await client.SendAsync(request), HttpStatusCode.Unauthorized, "bad-signature");
        Assert.Equal("Signature", problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Twilio_SignedIncomingCall_AnswersEmptyTwimlAndProducesACallTouch()
    {
        using var client = host.CreateClient();
        var form = new Dictionary<string, string>
        {
            ["CallSid"] = "CA" + Guid.NewGuid().ToString("N"), ["From"] = "+14155550142", ["To"] = "+18005551212", ["FromCity"] = "SAN FRANCISCO", ["Direction"] = "inbound",
        };
        var signature = TwilioSignature("http://localhost/v1/webhooks/twilio", form);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/twilio") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("X-Twilio-Signature", signature);
        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/xml", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<Response></Response>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var record = RecordOf("twilio:" + form["CallSid"]);
        Assert.Equal("+14155550142", record.GetProperty("identities").GetProperty("phone").GetString());
        Assert.Equal("+18005551212", record.GetProperty("provider").GetProperty("tracking_number").GetString());
        Assert.Equal("offline", record.GetProperty("attribution").GetProperty("channel").GetString());
    }

    [Fact]
    public async Task Twilio_ParameterChangedAfterSigning_Returns401Problem()
    {
        using var client = host.CreateClient();
        var form = new Dictionary<string, string> { ["CallSid"] = "CA1", ["From"] = "+14155550142", ["To"] = "+18005551212" };
        var signature = TwilioSignature("http://localhost/v1/webhooks/twilio", form);
        form["From"] = "+14155550000";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/twilio") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("X-Twilio-Signature", signature);
        await TouchesApiTests.AssertProblem(await client.SendAsync(request), HttpStatusCode.Unauthorized, "bad-signature");
    }

    [Fact]
    public async Task GoogleAds_TestLead_BecomesAnAdTouchWithIdsAsStrings()
    {
        using var client = host.CreateClient();
        var response = await client.PostAsync("/v1/webhooks/google-ads", Body(DoorsHost.Sample("google-ads-lead.json")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var record = RecordOf("google_ads:TeSt_LeAd_iD-42");
        Assert.Equal("ad", record.GetProperty("kind").GetString());
        Assert.True(record.GetProperty("is_test").GetBoolean());
        Assert.Equal("grace@example.com", record.GetProperty("identities").GetProperty("email").GetString());
        Assert.Equal("+14155550199", record.GetProperty("identities").GetProperty("phone").GetString());
        Assert.Equal("Cj0KCQiA-CaseSensitive_ID", record.GetProperty("attribution").GetProperty("click_id").GetString());
        Assert.Equal("1234567890123456789", record.GetProperty("provider").GetProperty("campaign_id").GetString());
        Assert.Equal("9876543210987654321", record.GetProperty("provider").GetProperty("adgroup_id").GetString());
        Assert.Equal("Grace Hopper", record.GetProperty("properties").GetProperty("full_name").GetString());
        Assert.Equal("paid_search", record.GetProperty("attribution").GetProperty("channel").GetString());
    }

    [Fact]
    public async Task GoogleAds_WrongKey_Returns401Problem()
    {
        using var client = host.CreateClient();
        var response = await client.PostAsync("/v1/webhooks/google-ads", Body(DoorsHost.Sample("google-ads-lead.json").Replace("google-test-key", "guess", StringComparison.Ordinal)));
        var problem = await TouchesApiTests.AssertProblem(response, HttpStatusCode.Unauthorized, "bad-signature");
        Assert.Equal("google_key", problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Meta_VerifyHandshake_EchoesChallengeOnlyForTheRightToken()
    {
        using var client = host.CreateClient();
        var ok = await client.GetAsync($"/v1/webhooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={DoorsHost.MetaVerifyToken}");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("1158201444", await ok.Content.ReadAsStringAsync());

        var bad = await client.GetAsync("/v1/webhooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=nope");
        await TouchesApiTests.AssertProblem(bad, HttpStatusCode.Forbidden, "forbidden");
    }

    [Theory] // found by the fuzz run (load-tests/run.sh fuzz): entries or a root that are not objects answered 500
    [InlineData("""{"object":"page","entry":[1,[2],"x",{"changes":[3]}]}""", 200, new string[0])]
    [InlineData("""[{"object":"page"}]""", 400, new string[0])]
    [InlineData("""{"object":"page","entry":[{"changes":[{"field":"leadgen","value":{"leadgen_id":"555","created_time":99999999999999}}]}]}""", 200, new[] { "meta:555" })]
    public async Task Meta_SignedButOddlyShapedNotification_AnswersWithoutError(string body, int status, string[] eventIds)
    {
        using var client = host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/meta") { Content = Body(body) };
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(DoorsHost.MetaSecret), Encoding.UTF8.GetBytes(body))));
        var response = await client.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        if (status == 200)
        {
            var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(eventIds, accepted.GetProperty("event_ids").EnumerateArray().Select(e => e.GetString()));
        }
    }

    [Fact]
    public async Task Meta_SignedLeadgenNotification_EachLeadBecomesAnAdTouchAwaitingEnrichment()
    {
        using var client = host.CreateClient();
        var body = DoorsHost.Sample("meta-leadgen.json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/meta") { Content = Body(body) };
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(DoorsHost.MetaSecret), Encoding.UTF8.GetBytes(body))));
        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["meta:444444444444", "meta:444444444445"], accepted.GetProperty("event_ids").EnumerateArray().Select(e => e.GetString()));
        var record = RecordOf("meta:444444444444");
        Assert.True(record.GetProperty("awaiting_enrichment").GetBoolean());
        Assert.Equal("meta_lead:444444444444", record.GetProperty("identities").GetProperty("external_id").GetString());
        Assert.Equal("120201234567890123", record.GetProperty("provider").GetProperty("ad_id").GetString());
        Assert.Equal("paid_social", record.GetProperty("attribution").GetProperty("channel").GetString());
    }

    [Fact]
    public async Task Meta_BadSignature_Returns401Problem()
    {
        using var client = host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/meta") { Content = Body(DoorsHost.Sample("meta-leadgen.json")) };
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + new string('0', 64));
        await TouchesApiTests.AssertProblem(await client.SendAsync(request), HttpStatusCode.Unauthorized, "bad-signature");
    }

    private static string TwilioSignature(string url, Dictionary<string, string> form)
    {
        var data = new StringBuilder(url);
        foreach (var (name, value) in form.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            data.Append(name).Append(value);
        }

        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(DoorsHost.TwilioToken), Encoding.UTF8.GetBytes(data.ToString())));
    }
}
