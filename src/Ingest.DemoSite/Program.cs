using Ingest.DemoSite;

// The demo site: static pages carrying the one script tag, on an origin of their own (http://127.0.0.1:8088 by default).
var builder = WebApplication.CreateSlimBuilder(args);
var options = builder.Configuration.GetSection(DemoOptions.Section).Get<DemoOptions>() ?? new DemoOptions();
if (!Uri.TryCreate(options.CollectorUrl, UriKind.Absolute, out var collector) || collector.Scheme is not ("http" or "https"))
{
    throw new InvalidOperationException("Demo:CollectorUrl must be an absolute http or https URL, e.g. http://127.0.0.1:8080.");
}

builder.Services.AddSingleton(new DemoPages(options));
var app = builder.Build();

app.MapGet("/", (DemoPages pages) => Page(pages, "index"));
app.MapGet("/{name}.html", (string name, DemoPages pages) => Page(pages, name));
app.Run();

static IResult Page(DemoPages pages, string name) =>
    pages.Find(name) is { } html ? Results.Content(html, "text/html; charset=utf-8") : Results.NotFound();

/// <summary>The entry point, named for tests that host the site.</summary>
public partial class Program;
