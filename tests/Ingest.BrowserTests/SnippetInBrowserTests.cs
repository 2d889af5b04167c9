using System.Text.Json;
using Microsoft.Playwright;

namespace Ingest.BrowserTests;

/// <summary>
/// The one script tag on the demo site, in a real chromium, against the real collector and worker: what a web team
/// checks after putting ingest.js on their site. Each test has a browser context of its own (a new visitor).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class SnippetInBrowserTests(BrowserStack stack) : IAsyncLifetime
{
    private IBrowserContext _context = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        _context = await stack.Browser.NewContextAsync();
        // The whole suite runs its test projects side by side on 2 cores: a first navigation, while the integration
        // hosts start, once took longer than Playwright's default 30 s (a load event, not an assertion), so allow 90 s.
        _context.SetDefaultTimeout(90_000);
        _page = await _context.NewPageAsync();
    }

    public async Task DisposeAsync() => await _context.CloseAsync();

    [Fact]
    public async Task PaidClickLanding_TwoMorePages_FormWithEmail_FirstTouchIsThePaidClick_LeadCreationTouchIsTheForm()
    {
        await GotoAsync("/blog.html?utm_source=google&utm_medium=cpc&utm_campaign=brand&gclid=pw-gclid-1", referer: "https://www.google.com/");
        await _page.ClickAsync("text=See pricing");
        await _page.WaitForURLAsync("**/pricing.html");
        await _page.ClickAsync("main >> text=Talk to sales");
        await _page.WaitForURLAsync("**/contact.html");
        await _page.FillAsync("#email", "Journey@Acme.example");
        await _page.FillAsync("#name", "Jo Journey");
        await _page.ClickAsync("button[type=submit]");
        await _page.WaitForURLAsync("**/thanks.html");
        var anonymousId = await StoredIdAsync();

        var lead = await stack.LeadAsync("email=journey@acme.example", l => l.GetProperty("touch_count").GetInt32() == 2);
        var first = lead.GetProperty("first_touch");
        Assert.Equal("visit", first.GetProperty("kind").GetString());
        Assert.Equal("paid_search", first.GetProperty("channel").GetString());
        Assert.Equal("google", first.GetProperty("source").GetString());
        Assert.Equal("pw-gclid-1", first.GetProperty("click_id").GetString());
        var created = lead.GetProperty("lead_created_touch");
        Assert.Equal("form", created.GetProperty("kind").GetString());
        // The form page carried no UTMs: its hidden fields were filled with the session's campaign.
        Assert.Equal("paid_search", created.GetProperty("channel").GetString());
        Assert.Equal("brand", created.GetProperty("campaign").GetString());
        Assert.Equal(created.GetProperty("event_id").GetString(), lead.GetProperty("latest_touch").GetProperty("event_id").GetString());
        Assert.Contains(lead.GetProperty("identities").EnumerateArray(),
            i => i.GetProperty("kind").GetString() == "anonymous_id" && i.GetProperty("value").GetString() == anonymousId);
        // The two plain page views in between were not visits: nothing new about where the visitor came from.
        Assert.Equal(["visit", "form"], lead.GetProperty("touches").EnumerateArray().Select(t => t.GetProperty("kind").GetString()));
    }

    [Fact]
    public async Task DirectFirstVisit_ThenPaidVisit_FirstTouchStaysDirect()
    {
        await GotoAsync("/");
        var anonymousId = await StoredIdAsync();
        await stack.LeadAsync($"anonymous_id={anonymousId}", l => l.GetProperty("touch_count").GetInt32() == 1);
        await GotoAsync("/blog.html?utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm");

        var visitor = await stack.LeadAsync($"anonymous_id={anonymousId}", l => l.GetProperty("touch_count").GetInt32() == 2);
        Assert.Equal("direct", visitor.GetProperty("first_touch").GetProperty("channel").GetString());
        Assert.Equal("paid_social", visitor.GetProperty("latest_touch").GetProperty("channel").GetString());
        Assert.False(visitor.TryGetProperty("lead_created_touch", out _)); // visits alone: a visitor

        var context = await StoredContextAsync();
        Assert.False(context.GetProperty("first").TryGetProperty("utm_source", out _));
        Assert.Equal("linkedin", context.GetProperty("session").GetProperty("utm_source").GetString());
    }

    [Fact]
    public async Task SpaNavigationWithNewUtms_ReplacesTheSessionTouch_KeepsTheExternalReferrer()
    {
        const string referrer = "https://news.ycombinator.com/item?id=4242";
        await GotoAsync("/app.html", referer: referrer);
        await _page.ClickAsync("#to-reports");
        await _page.ClickAsync("#to-campaign");
        await _page.WaitForURLAsync("**/app.html?view=offer*");
        var anonymousId = await StoredIdAsync();

        var visitor = await stack.LeadAsync($"anonymous_id={anonymousId}", l => l.GetProperty("touch_count").GetInt32() == 2);
        var touches = visitor.GetProperty("touches").EnumerateArray().ToList();
        Assert.Equal(referrer, touches[0].GetProperty("referrer").GetString());
        Assert.Equal("partner", touches[1].GetProperty("source").GetString());
        Assert.Equal("q4-offer", touches[1].GetProperty("campaign").GetString());
        Assert.Equal(referrer, touches[1].GetProperty("referrer").GetString());

        var session = (await StoredContextAsync()).GetProperty("session");
        Assert.Equal("partner", session.GetProperty("utm_source").GetString());
        Assert.Equal(referrer, session.GetProperty("referrer").GetString());
        Assert.Contains("view=offer", session.GetProperty("landing_page").GetString());
        Assert.Equal(referrer, (await StoredContextAsync()).GetProperty("first").GetProperty("referrer").GetString());
    }

    [Fact]
    public async Task ConsentRequired_NothingStoredOrSentBeforeConsent_TheHeldPageViewSentOnAcceptWithItsOriginalTime()
    {
        var sent = CountTouchPosts();
        var shown = DateTimeOffset.UtcNow;
        await GotoAsync("/consent.html");
        await _page.WaitForFunctionAsync("() => window.__ingestLoaded === true");
        await _page.WaitForTimeoutAsync(500); // time for anything the snippet would send or write to show
        Assert.Equal(0, sent());
        Assert.Empty(await IngestCookiesAsync());
        Assert.Equal(0, await _page.EvaluateAsync<int>("() => Object.keys(localStorage).filter(k => k.startsWith('_ingest')).length"));

        var accepted = DateTimeOffset.UtcNow;
        var response = _page.WaitForResponseAsync(r => r.Url.Contains("/v1/browser/touches", StringComparison.Ordinal));
        await _page.ClickAsync("#accept");
        Assert.Equal(202, (await response).Status);
        var anonymousId = await StoredIdAsync();
        Assert.NotEmpty(await IngestCookiesAsync());

        var visitor = await stack.LeadAsync($"anonymous_id={anonymousId}", l => l.GetProperty("touch_count").GetInt32() == 1);
        var occurredAt = visitor.GetProperty("first_touch").GetProperty("occurred_at").GetDateTimeOffset();
        Assert.InRange(occurredAt, shown.AddSeconds(-1), accepted); // the page view's time, not the grant's
        Assert.Equal(1, sent());
    }

    [Fact]
    public async Task ConsentDeclined_TheHeldPageViewIsDropped_NothingStoredOrSent()
    {
        var sent = CountTouchPosts();
        await GotoAsync("/consent.html");
        await _page.WaitForFunctionAsync("() => window.__ingestLoaded === true");
        await _page.ClickAsync("#decline");
        await GotoAsync("/consent.html?utm_source=google&utm_medium=cpc");
        await _page.WaitForFunctionAsync("() => window.__ingestLoaded === true");
        await _page.WaitForTimeoutAsync(500);

        Assert.Equal(0, sent());
        Assert.Empty(await IngestCookiesAsync());
        Assert.Equal(0, await _page.EvaluateAsync<int>("() => Object.keys(localStorage).filter(k => k.startsWith('_ingest')).length"));
    }

    [Fact]
    public async Task FormAddedAfterLoad_GetsItsEmptyHiddenFieldsFilled_SetValuesKept_FirstTouchFieldsByDataIngest()
    {
        await GotoAsync("/blog.html?utm_source=newsletter&utm_medium=email&utm_campaign=dec-digest");
        await GotoAsync("/pricing.html?utm_source=bing&utm_medium=cpc&utm_campaign=generic&msclkid=pw-ms-1");
        var anonymousId = await StoredIdAsync();
        await _page.EvaluateAsync("""
            () => {
              const form = document.createElement('form');
              form.id = 'late';
              form.innerHTML = `
                <input type="hidden" name="anonymous_id">
                <input type="hidden" name="utm_source">
                <input type="hidden" name="utm_campaign">
                <input type="hidden" name="msclkid">
                <input type="hidden" name="utm_content" value="set-by-page">
                <input type="hidden" name="crm_original_source" data-ingest="first.utm_source">
                <input type="hidden" name="crm_original_campaign" data-ingest="first.utm_campaign">
                <button type="submit">Send</button>`;
              form.addEventListener('submit', e => { e.preventDefault(); window.__submitted = Object.fromEntries(new FormData(form)); });
              document.body.appendChild(form);
            }
            """);
        await _page.ClickAsync("#late button");
        var submitted = await _page.EvaluateAsync<Dictionary<string, string>>("() => window.__submitted");

        Assert.Equal(anonymousId, submitted["anonymous_id"]);
        Assert.Equal("bing", submitted["utm_source"]);
        Assert.Equal("generic", submitted["utm_campaign"]);
        Assert.Equal("pw-ms-1", submitted["msclkid"]);
        Assert.Equal("set-by-page", submitted["utm_content"]);
        Assert.Equal("newsletter", submitted["crm_original_source"]);
        Assert.Equal("dec-digest", submitted["crm_original_campaign"]);
    }

    [Fact]
    public async Task IdentifyAndScriptedTouch_JoinTheVisitorsHistory_GlobalPrivacyControlMeansNoAdsConsent()
    {
        await using var context = await stack.Browser.NewContextAsync();
        await context.AddInitScriptAsync("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })");
        _page = await context.NewPageAsync();
        await GotoAsync("/?utm_source=google&utm_medium=cpc&utm_campaign=brand");
        var anonymousId = await StoredIdAsync();
        await stack.LeadAsync($"anonymous_id={anonymousId}", l => l.GetProperty("touch_count").GetInt32() == 1);

        await _page.EvaluateAsync("() => ingest('identify', { email: 'GPC@acme.example' })");
        await stack.LeadAsync("email=gpc@acme.example", l => l.GetProperty("touch_count").GetInt32() == 2);
        await _page.EvaluateAsync("() => ingest('touch', { kind: 'form', email: 'gpc@acme.example', properties: { plan: 'team' } })");

        var lead = await stack.LeadAsync("email=gpc@acme.example", l => l.GetProperty("touch_count").GetInt32() == 3);
        Assert.Equal("paid_search", lead.GetProperty("first_touch").GetProperty("channel").GetString());
        Assert.Equal("visit", lead.GetProperty("lead_created_touch").GetProperty("kind").GetString()); // the identified visit
        Assert.Equal("form", lead.GetProperty("latest_touch").GetProperty("kind").GetString());
        Assert.Contains(lead.GetProperty("identities").EnumerateArray(), i => i.GetProperty("value").GetString() == anonymousId);
        Assert.Equal(3, await stack.StoredTouchesAsync(anonymousId, "record->'consent'->>'analytics' = 'true' and record->'consent'->>'ads' = 'false'"));
        Assert.Equal(1, await stack.StoredTouchesAsync(anonymousId, "record->'properties'->>'plan' = 'team'"));
    }

    [Fact]
    public async Task CookiesClearedButStorageKept_AndTheReverse_SameAnonymousIdAndFirstTouch()
    {
        await GotoAsync("/?utm_source=google&utm_medium=cpc&utm_campaign=brand");
        var id = await StoredIdAsync();
        var landing = (await StoredContextAsync()).GetProperty("first").GetProperty("landing_page").GetString();

        await _context.ClearCookiesAsync();
        await GotoAsync("/pricing.html");
        Assert.Equal(id, await CookieAsync("_ingest_id"));
        Assert.Equal(landing, (await StoredContextAsync()).GetProperty("first").GetProperty("landing_page").GetString());

        await _page.EvaluateAsync("() => localStorage.clear()");
        await GotoAsync("/blog.html");
        Assert.Equal(id, await _page.EvaluateAsync<string>("() => localStorage.getItem('_ingest_id')"));
        Assert.Equal(landing, (await StoredContextAsync()).GetProperty("first").GetProperty("landing_page").GetString());

        // One visitor throughout: the collector saw one anonymous id, one history.
        var visitor = await stack.LeadAsync($"anonymous_id={id}", l => l.GetProperty("touch_count").GetInt32() == 1);
        Assert.Equal("paid_search", visitor.GetProperty("first_touch").GetProperty("channel").GetString());
    }

    [Fact]
    public async Task SendThatFailedOffline_IsDeliveredOnTheNextPageView_ExactlyOnce()
    {
        await GotoAsync("/");
        var anonymousId = await StoredIdAsync();
        await stack.LeadAsync($"anonymous_id={anonymousId}", l => l.GetProperty("touch_count").GetInt32() == 1);

        // The network drops the next send (in-app navigation bringing a campaign): it waits in the outbox.
        await _page.RouteAsync("**/v1/browser/touches**", route => route.AbortAsync("internetdisconnected"));
        await _page.EvaluateAsync("() => history.pushState({}, '', '/?utm_source=retry&utm_medium=email&utm_campaign=offline')");
        await _page.WaitForFunctionAsync("() => JSON.parse(localStorage.getItem('_ingest_outbox') || '[]').length === 1");
        var eventId = await _page.EvaluateAsync<string>("() => JSON.parse(localStorage.getItem('_ingest_outbox'))[0].event_id");
        await _page.UnrouteAllAsync();

        var posts = new List<string>();
        _context.Request += (_, request) =>
        {
            if (request.Url.Contains("/v1/browser/touches", StringComparison.Ordinal) && request.PostData is { } body && body.Contains(eventId, StringComparison.Ordinal))
            {
                lock (posts)
                {
                    posts.Add(request.Url);
                }
            }
        };
        var delivered = _page.WaitForResponseAsync(r => r.Url.Contains("/v1/browser/touches", StringComparison.Ordinal) && r.Status == 202);
        await GotoAsync("/pricing.html");
        await delivered;
        await _page.WaitForFunctionAsync("() => JSON.parse(localStorage.getItem('_ingest_outbox') || '[]').length === 0");
        await GotoAsync("/blog.html");
        await _page.WaitForTimeoutAsync(300);

        Assert.Single(posts);
        var visitor = await stack.LeadAsync($"anonymous_id={anonymousId}", l => l.GetProperty("touch_count").GetInt32() == 2);
        var retried = visitor.GetProperty("touches").EnumerateArray().Single(t => t.GetProperty("event_id").GetString() == eventId);
        Assert.Equal("retry", retried.GetProperty("source").GetString());
        Assert.Equal(2, await stack.StoredTouchesAsync(anonymousId));
    }

    [Fact]
    public async Task SiteOnAnOriginNotAllowed_Gets403_NothingStored()
    {
        // The collector's 403 carries no CORS grant, so the page itself cannot read it: the test passes the browser's
        // own request (its Origin header included) through to the collector and reads the answer.
        var answered = new TaskCompletionSource<(int Status, string? Origin)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _page.RouteAsync("**/v1/browser/touches**", async route =>
        {
            var headers = await route.Request.AllHeadersAsync();
            var response = await route.FetchAsync();
            answered.TrySetResult((response.Status, headers.GetValueOrDefault("origin")));
            await route.FulfillAsync(new RouteFulfillOptions { Response = response });
        });
        await _page.GotoAsync(stack.DisallowedSiteUrl + "/?utm_source=google&utm_medium=cpc");
        var (status, origin) = await answered.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(stack.DisallowedSiteUrl, origin);
        Assert.Equal(403, status);
        var anonymousId = await StoredIdAsync();

        // A touch from an allowed page is stored meanwhile: the worker is running, the refused one is simply not there.
        await using var allowed = await stack.Browser.NewContextAsync();
        var other = await allowed.NewPageAsync();
        await other.GotoAsync(stack.SiteUrl + "/");
        var allowedId = await other.EvaluateAsync<string>("() => localStorage.getItem('_ingest_id')");
        await stack.LeadAsync($"anonymous_id={allowedId}", l => l.GetProperty("touch_count").GetInt32() == 1);

        Assert.Equal(0, await stack.StoredTouchesAsync(anonymousId));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await stack.Reader.GetAsync($"/v1/leads?anonymous_id={anonymousId}")).StatusCode);
    }

    private async Task GotoAsync(string path, string? referer = null)
    {
        await _page.GotoAsync(stack.SiteUrl + path, new PageGotoOptions { Referer = referer });
        await _page.WaitForFunctionAsync("() => window.__ingestLoaded === true");
    }

    /// <summary>The anonymous id the snippet keeps in localStorage, once it is there.</summary>
    private async Task<string> StoredIdAsync()
    {
        await _page.WaitForFunctionAsync("() => !!localStorage.getItem('_ingest_id')");
        return await _page.EvaluateAsync<string>("() => localStorage.getItem('_ingest_id')");
    }

    /// <summary>The snippet's stored context (first touch, session touch, consent) from localStorage.</summary>
    private async Task<JsonElement> StoredContextAsync() =>
        JsonDocument.Parse(await _page.EvaluateAsync<string>("() => localStorage.getItem('_ingest')")).RootElement;

    private async Task<string?> CookieAsync(string name) =>
        (await _context.CookiesAsync()).FirstOrDefault(c => c.Name == name) is { } cookie ? Uri.UnescapeDataString(cookie.Value) : null;

    private async Task<List<BrowserContextCookiesResult>> IngestCookiesAsync() =>
        (await _context.CookiesAsync()).Where(c => c.Name.StartsWith("_ingest", StringComparison.Ordinal)).ToList();

    /// <summary>Counts the page's posts to the browser door from now on.</summary>
    private Func<int> CountTouchPosts()
    {
        var count = 0;
        _page.Request += (_, request) =>
        {
            if (request.Method == "POST" && request.Url.Contains("/v1/browser/touches", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref count);
            }
        };
        return () => Volatile.Read(ref count);
    }
}
