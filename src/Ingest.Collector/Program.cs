using Ingest.Collector;
using Ingest.Collector.Attribution;
using Ingest.Collector.Browser;
using Ingest.Collector.Costs;
using Ingest.Collector.Forms;
using Ingest.Collector.Governance;
using Ingest.Collector.Http;
using Ingest.Collector.Imports;
using Ingest.Collector.Kafka;
using Ingest.Collector.Leads;
using Ingest.Collector.Reports;
using Ingest.Collector.OpenApi;
using Ingest.Collector.Outcomes;
using Ingest.Collector.Problems;
using Ingest.Collector.Security;
using Ingest.Collector.Touches;
using Ingest.Collector.Webhooks;
using Ingest.Core.Identity;
using Ingest.Core.Outcomes;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;
using Ingest.ServiceDefaults;
using Ingest.Storage;
using Ingest.Storage.Attribution;
using Ingest.Storage.Leads;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddServiceDefaults();

builder.Services.ConfigureHttpJsonOptions(o =>
{
    // The wire is snake_case everywhere; the generated contexts supply the metadata, these options the policy.
    o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
    o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
    o.SerializerOptions.TypeInfoResolverChain.Insert(0, IngestJsonContext.Default);
    o.SerializerOptions.TypeInfoResolverChain.Insert(0, CollectorJsonContext.Default);
});
builder.Services.AddProblemDetails(static o => o.CustomizeProblemDetails = ProblemResponses.ApplyStableType);
// A query or route value that cannot be bound is the client's 400 problem in every environment (Development's default
// throws, which the exception handler answered with 500).
builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(static o => o.ThrowOnBadRequest = false);
builder.Services.AddOpenApi(static o => OpenApiDocumentSetup.Configure(o));
builder.Services.AddApiKeyAuthentication(builder.Configuration);
builder.Services.AddEdgeProtection(builder.Configuration);
builder.Services.AddBrowserCapture(builder.Configuration);
builder.Services.AddIngestStorage(builder.Configuration);
builder.Services.AddSingleton<LeadQueries>();
builder.Services.AddSingleton<JourneyQueries>();
builder.Services.AddSingleton<Ingest.Storage.Costs.CostQueries>();
builder.Services.AddSingleton<Ingest.Storage.Costs.CostWriter>();
builder.Services.AddSingleton<Ingest.Storage.Governance.TouchReclassifier>();
builder.Services.AddSingleton<Ingest.Storage.Reports.OutcomeReports>();
builder.Services.AddOptions<Ingest.Storage.Reports.ReportSettings>().BindConfiguration("Reports")
    .Validate(static o => Currencies.Normalize(o.Currency) is not null && o.Rates.Keys.All(static c => Currencies.Normalize(c) is not null) && o.Rates.Values.All(static r => r > 0),
        "Reports:Currency and every Reports:Rates:<code> must be ISO 4217 codes, each rate a positive number (units of Reports:Currency per unit of <code>).")
    .Validate(static o => o.BusinessHours.Problem() is null,
        "Reports:BusinessHours: TimeZone must be an IANA time zone, Days three-letter day names (sun … sat), Start and End HH:mm with End after Start.")
    .ValidateOnStart();

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<CollectorMetrics>();
builder.Services.AddOptions<ReadStoreOptions>().BindConfiguration("ConnectionStrings").ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<ReadStoreOptions>, ReadStoreOptionsValidator>();
builder.Services.AddOptions<TouchProducerOptions>().BindConfiguration(TouchProducerOptions.Section).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<TouchProducerOptions>, TouchProducerOptionsValidator>();
builder.Services.AddSingleton<TouchProducer>();
builder.Services.AddOptions<PhoneRegionOptions>().BindConfiguration("Collector").ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<PhoneRegionOptions>, PhoneRegionOptionsValidator>();
builder.Services.AddSingleton(static sp => new IdentityNormalizer(sp.GetRequiredService<IOptions<PhoneRegionOptions>>().Value.DefaultPhoneRegion));
builder.Services.AddOptions<TouchLimits>().BindConfiguration(TouchSettings.LimitsSection).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<TouchLimits>, TouchLimitsValidator>();
builder.Services.AddSingleton(static sp => sp.GetRequiredService<IOptions<TouchLimits>>().Value);
builder.Services.AddGovernance(builder.Configuration);
builder.Services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>();
builder.Services.AddOptions<FormsOptions>().Configure(o => builder.Configuration.GetSection(FormsOptions.Section).Bind(o.Forms)).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<FormsOptions>, FormsOptionsValidator>();
builder.Services.AddOptions<FormRateLimitOptions>().BindConfiguration(FormRateLimitOptions.Section).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<FormRateLimitOptions>, FormRateLimitOptionsValidator>();
builder.Services.AddSingleton<FormRateLimiter>();
builder.Services.AddSingleton<TouchBuilder>();
builder.Services.AddSingleton<TouchIntake>();
builder.Services.AddSingleton<OutcomeBuilder>();
builder.Services.AddSingleton<OutcomeIntake>();
builder.Services.AddSingleton<CostIntake>();
builder.Services.AddSingleton<TouchImport>();

var app = builder.Build();

app.Use(app.Services.GetRequiredService<CollectorMetrics>().CountShedAnswers);
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseCors();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();

app.MapOpenApi("/openapi/{documentName}.json");
app.MapOpenApi("/openapi/{documentName}.yaml");
app.UseSwaggerUI(o =>
{
    o.RoutePrefix = "swagger";
    o.SwaggerEndpoint("/openapi/v1.json", "Ingest v1");
});
app.MapDefaultEndpoints();
app.MapTouchesApi();
app.MapOutcomesApi();
app.MapCostsApi();
app.MapImportsApi();
app.MapBrowserApi();
app.MapGovernanceApi();
app.MapWebhooksApi();
app.MapFormsApi();
app.MapLeadsApi();
app.MapReportsApi();
app.MapAttributionApi();

// Flush what the producer still holds before the process exits.
app.Lifetime.ApplicationStopping.Register(() => app.Services.GetRequiredService<TouchProducer>().Flush(TimeSpan.FromSeconds(10)));

app.Run();

/// <summary>Entry point, public for WebApplicationFactory in tests.</summary>
public partial class Program;
