using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Ingest.IntegrationTests.Doors;

public sealed class FormsTests(DoorsHost host) : IClassFixture<DoorsHost>
{
    private static HttpRequestMessage Post(string formId, Dictionary<string, string> fields, string? origin = "https://www.acme.com", string? referer = null, bool json = false)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/forms/{formId}") { Content = new FormUrlEncodedContent(fields) };
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        if (referer is not null)
        {
            request.Headers.Referrer = new Uri(referer);
        }

        if (json)
        {
            request.Headers.Accept.ParseAdd("application/json");
        }

        return request;
    }

    [Fact]
    public async Task HtmlForm_FromAllowedOrigin_Redirects303AndTakesUtmsFromTheReferer()
    {
        using var client = host.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var eventId = Guid.NewGuid().ToString();
        var response = await client.SendAsync(Post("contact", new()
        {
            ["event_id"] = eventId, ["Email"] = " Ada@Example.com ", ["name"] = "Ada Lovelace", ["company"] = "Analytical Engines", ["message"] = "Call me",
        }, referer: "https://www.acme.com/demo?utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm_q4&li_fat_id=LiFat-1"));

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("https://www.acme.com/thank-you", response.Headers.Location?.ToString());
        var message = host.Kafka.FindEvent(host.Topic, eventId);
        var record = JsonDocument.Parse(message.Message.Value).RootElement;
        Assert.Equal("form", record.GetProperty("door").GetString());
        Assert.Equal("ada@example.com", record.GetProperty("identities").GetProperty("email").GetString());
        Assert.Equal("Ada Lovelace", record.GetProperty("properties").GetProperty("name").GetString());
        Assert.Equal("Analytical Engines", record.GetProperty("properties").GetProperty("company").GetString());
        Assert.Equal("paid_social", record.GetProperty("attribution").GetProperty("channel").GetString());
        Assert.Equal("LiFat-1", record.GetProperty("attribution").GetProperty("click_id").GetString());
        Assert.Equal("contact", record.GetProperty("provider").GetProperty("form_id").GetString());
    }

    [Fact]
    public async Task HtmlForm_AcceptJson_Returns202WithEventId()
    {
        using var client = host.CreateClient();
        var response = await client.SendAsync(Post("open", new() { ["phone"] = "(415) 555-0100", ["utm_source"] = "newsletter", ["utm_medium"] = "email", ["utm_campaign"] = "nov" }, origin: null, json: true));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.False(string.IsNullOrEmpty((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("event_id").GetString()));
    }

    [Fact]
    public async Task HtmlForm_PageUrlFieldAndClickIdOnlyInReferer_TakesTheClickIdFromTheReferer()
    {
        using var client = host.CreateClient();
        var eventId = Guid.NewGuid().ToString();
        var response = await client.SendAsync(Post("open", new() { ["event_id"] = eventId, ["email"] = "ref@example.com", ["page_url"] = "https://www.acme.com/demo" },
            origin: null, referer: "https://www.acme.com/demo?gclid=Ref-GcLiD&utm_source=google&utm_medium=cpc&utm_campaign=brand", json: true));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var record = JsonDocument.Parse(host.Kafka.FindEvent(host.Topic, eventId).Message.Value).RootElement;
        Assert.Equal("Ref-GcLiD", record.GetProperty("attribution").GetProperty("click_id").GetString());
        Assert.Equal("paid_search", record.GetProperty("attribution").GetProperty("channel").GetString());
    }

    [Fact]
    public async Task HtmlForm_LongMessage_IsCutNotRejected()
    {
        using var client = host.CreateClient();
        var response = await client.SendAsync(Post("open", new() { ["email"] = "long@example.com", ["message"] = new string('m', 20_000) }, origin: null, json: true));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var eventId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("event_id").GetString()!;
        var record = JsonDocument.Parse(host.Kafka.FindEvent(host.Topic, eventId).Message.Value).RootElement;
        Assert.Equal(1_000, record.GetProperty("properties").GetProperty("message").GetString()!.Length);
    }

    [Fact]
    public async Task HtmlForm_UnknownForm_Returns404Problem()
    {
        using var client = host.CreateClient();
        await TouchesApiTests.AssertProblem(await client.SendAsync(Post("nope", new() { ["email"] = "a@b.co" })), HttpStatusCode.NotFound, "not-found");
    }

    [Theory]
    [InlineData("contact%3AAllowedOrigins")]
    [InlineData("contact%3ARedirectUrl")]
    [InlineData("CONTACT")]
    public async Task HtmlForm_FormIdNotAConfiguredToken_Returns404ProblemAndProducesNothing(string formId)
    {
        using var client = host.CreateClient();
        var eventId = Guid.NewGuid().ToString();
        var response = await client.SendAsync(Post(formId, new() { ["event_id"] = eventId, ["email"] = "evil@example.com" }, origin: "https://evil.example", json: true));
        await TouchesApiTests.AssertProblem(response, HttpStatusCode.NotFound, "not-found");
        Assert.Throws<InvalidOperationException>(() => host.Kafka.FindEvent(host.Topic, eventId, TimeSpan.FromSeconds(1)));
    }

    [Theory]
    [InlineData("multipart/form-data; boundary=x", "email=ada%40example.com")] // found by the fuzz run: answered 500
    [InlineData("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nada@exa")]
    public async Task HtmlForm_MalformedMultipartBody_Returns400Problem(string contentType, string body)
    {
        using var client = host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/forms/contact") { Content = new StringContent(body) };
        request.Content.Headers.Remove("Content-Type");
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        request.Headers.Add("Origin", "https://www.acme.com");

        var problem = await TouchesApiTests.AssertProblem(await client.SendAsync(request), HttpStatusCode.BadRequest, "malformed-request");
        Assert.Equal("body", problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task HtmlForm_OtherOrigin_Returns403Problem()
    {
        using var client = host.CreateClient();
        await TouchesApiTests.AssertProblem(await client.SendAsync(Post("contact", new() { ["email"] = "a@b.co" }, origin: "https://evil.example")), HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task HtmlForm_NoIdentity_Returns422Problem()
    {
        using var client = host.CreateClient();
        var problem = await TouchesApiTests.AssertProblem(await client.SendAsync(Post("contact", new() { ["message"] = "hi" })), HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Equal("identities", problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task HtmlForm_Over64KiB_Returns413Problem()
    {
        using var client = host.CreateClient();
        var response = await client.SendAsync(Post("contact", new() { ["email"] = "a@b.co", ["message"] = new string('x', 70 * 1024) }));
        await TouchesApiTests.AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
    }

    [Fact]
    public async Task HtmlForm_JsonBody_Returns415Problem()
    {
        using var client = host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/forms/contact") { Content = JsonContent.Create(new { email = "a@b.co" }) };
        request.Headers.Add("Origin", "https://www.acme.com");
        await TouchesApiTests.AssertProblem(await client.SendAsync(request), HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [Fact]
    public async Task HtmlForm_MultipartWithFile_Returns422Problem()
    {
        using var client = host.CreateClient();
        using var content = new MultipartFormDataContent { { new StringContent("a@b.co"), "email" }, { new ByteArrayContent([1, 2, 3]), "cv", "cv.pdf" } };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/forms/contact") { Content = content };
        request.Headers.Add("Origin", "https://www.acme.com");
        var problem = await TouchesApiTests.AssertProblem(await client.SendAsync(request), HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Equal("cv", problem.GetProperty("field").GetString());
    }
}
