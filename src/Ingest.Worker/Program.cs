using Ingest.ServiceDefaults;
using Ingest.Storage;
using Ingest.Storage.Migrations;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddIngestStorage(builder.Configuration);

var app = builder.Build();

// `Ingest.Worker migrate` applies database migrations and exits (used by run.sh, tests and container start-up).
if (args.Contains("migrate"))
{
    var applied = await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync();
    Console.WriteLine(applied.Count == 0 ? "Database is up to date." : $"Applied migrations: {string.Join(", ", applied)}");
    return;
}

app.MapDefaultEndpoints();
await app.RunAsync();
