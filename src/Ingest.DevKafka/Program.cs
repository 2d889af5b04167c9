using Ingest.DevKafka.MockCluster;

namespace Ingest.DevKafka;

/// <summary>
/// Development Kafka: librdkafka's mock cluster on a fixed bootstrap, with an admin endpoint for fault tests.
/// <c>POST /brokers/{id}/down</c>, <c>POST /brokers/{id}/up</c>, <c>GET /brokers</c>, <c>POST /topics/{name}?partitions=N</c>.
/// </summary>
internal static class DevKafkaHost
{
    public static async Task Main(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        var settings = builder.Configuration.GetSection("DevKafka");
        var bootstrapPort = settings.GetValue("BootstrapPort", 29092);
        var adminUrl = settings.GetValue("AdminUrl", "http://127.0.0.1:29080")!;
        var brokers = settings.GetValue("Brokers", 1);
        var touchPartitions = settings.GetValue("TouchPartitions", 24);
        builder.WebHost.UseUrls(adminUrl);

        var cluster = MockKafkaCluster.Start(new MockKafkaClusterOptions
        {
            Brokers = brokers,
            FixedPort = bootstrapPort,
            Topics = new Dictionary<string, int>
            {
                [settings.GetValue("TouchTopic", "touches.v1")!] = touchPartitions,
                [settings.GetValue("DeadLetterTopic", "touches.dlq")!] = 3,
                [settings.GetValue("OutcomeTopic", "outcomes.v1")!] = 6,
                [settings.GetValue("OutcomeDeadLetterTopic", "outcomes.dlq")!] = 1,
            },
        });

        var app = builder.Build();
        app.Lifetime.ApplicationStopped.Register(() => cluster.DisposeAsync().AsTask().GetAwaiter().GetResult());

        app.MapGet("/", () => Results.Text($"bootstrap={cluster.BootstrapServers}\n"));
        app.MapGet("/brokers", () => Results.Text(string.Join('\n', cluster.Brokers().Select(b => $"{b.Id} {(b.Up ? "up" : "down")}")) + "\n"));
        app.MapPost("/brokers/{id:int}/down", (int id) =>
        {
            cluster.SetBrokerDown(id);
            return Results.Text($"broker {id} down\n");
        });
        app.MapPost("/brokers/{id:int}/up", (int id) =>
        {
            cluster.SetBrokerUp(id);
            return Results.Text($"broker {id} up\n");
        });
        app.MapPost("/topics/{name}", (string name, int? partitions) =>
        {
            cluster.CreateTopic(name, partitions ?? 12);
            return Results.Text($"topic {name} created\n");
        });

        Console.WriteLine($"Kafka mock cluster: bootstrap {cluster.BootstrapServers} ({brokers} broker(s), touches.v1 x{touchPartitions}); admin {adminUrl}");
        await app.RunAsync();
    }
}
