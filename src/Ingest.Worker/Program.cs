using Ingest.ServiceDefaults;
using Ingest.Storage;
using Ingest.Storage.Migrations;
using Ingest.Storage.Outcomes;
using Ingest.Storage.Touches;
using Ingest.Worker;
using Ingest.Worker.Consuming;
using Ingest.Worker.DeadLetters;
using Ingest.Worker.Identity;
using Ingest.Worker.Outcomes;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddIngestStorage(builder.Configuration);
builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<WorkerOptions>, WorkerOptionsValidator>();
builder.Services.AddOptions<RedisOptions>()
    .BindConfiguration(RedisOptions.Section)
    .Configure<IConfiguration>(static (o, configuration) => o.ConnectionString = configuration.GetConnectionString("Redis"))
    .ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<RedisOptions>, RedisOptionsValidator>();

// One multiplexer per process; abortConnect=false so the worker starts (and retries) while Redis is still coming up.
builder.Services.AddSingleton<IConnectionMultiplexer>(static sp =>
{
    var redis = ConfigurationOptions.Parse(sp.GetRequiredService<IOptions<RedisOptions>>().Value.ConnectionString!);
    redis.AbortOnConnectFail = false;
    return ConnectionMultiplexer.Connect(redis);
});
builder.Services.AddSingleton(static sp => new IdentityResolver(
    sp.GetRequiredService<IConnectionMultiplexer>(),
    sp.GetRequiredService<Npgsql.NpgsqlDataSource>(),
    sp.GetRequiredService<IOptions<RedisOptions>>().Value.KeyPrefix));
builder.Services.AddSingleton<TouchBatchWriter>();
builder.Services.AddSingleton<WorkerMetrics>();
builder.Services.AddHostedService<TouchConsumer>();
builder.Services.AddSingleton<OutcomeBatchWriter>();
builder.Services.AddHostedService<OutcomeConsumer>();
builder.Services.AddOptions<Ingest.Worker.Alerts.SpeedToLeadAlertOptions>().BindConfiguration(Ingest.Worker.Alerts.SpeedToLeadAlertOptions.Section)
    .ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<Ingest.Storage.Alerts.SpeedToLeadAlerts>();
builder.Services.AddHttpClient(Ingest.Worker.Alerts.SpeedToLeadAlerter.HttpClientName, static c => c.Timeout = TimeSpan.FromSeconds(5));
builder.Services.AddHostedService<Ingest.Worker.Alerts.SpeedToLeadAlerter>();
builder.Services.AddHealthChecks().AddReadinessCheck<RedisHealthCheck>("redis");

var app = builder.Build();

// `Ingest.Worker migrate` applies database migrations and exits (used by run.sh, tests and container start-up).
if (args.Contains("migrate"))
{
    var applied = await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync();
    Console.WriteLine(applied.Count == 0 ? "Database is up to date." : $"Applied migrations: {string.Join(", ", applied)}");
    return 0;
}

// `Ingest.Worker dlq list|replay [--since <RFC3339>] [--reason <text>]` lists or replays dead-lettered touches and exits.
if (args.Length > 0 && args[0] == "dlq")
{
    return DeadLetterCommand.Run(app.Services.GetRequiredService<IOptions<KafkaOptions>>().Value, args[1..], Console.Out, Console.Error);
}

app.MapDefaultEndpoints();
await app.RunAsync();
return 0;
