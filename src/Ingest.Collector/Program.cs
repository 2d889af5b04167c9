using Ingest.Core.Serialization;
using Ingest.ServiceDefaults;
using Ingest.Storage;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddServiceDefaults();

builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, IngestJsonContext.Default));
builder.Services.AddProblemDetails();
builder.Services.AddOpenApi();
builder.Services.AddIngestStorage(builder.Configuration);

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapOpenApi("/openapi/v1.json");
app.UseSwaggerUI(o =>
{
    o.RoutePrefix = "swagger";
    o.SwaggerEndpoint("/openapi/v1.json", "Ingest v1");
});
app.MapDefaultEndpoints();

app.Run();

/// <summary>Entry point, public for WebApplicationFactory in tests.</summary>
public partial class Program;
