using Ingest.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Ingest.IntegrationTests;

/// <summary>The real collector in-process, producing to a unique topic on an in-process Kafka mock cluster.</summary>
public class CollectorHost : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string WriteKey = "test-write-key";
    public const string ReadKey = "test-read-key";
    public const string ServerKey = "test-server-key";

    public KafkaCluster Kafka { get; } = new();
    public PostgresDatabase Database { get; } = new();
    public string Topic { get; private set; } = "";
    public string OutcomeTopic { get; private set; } = "";

    /// <summary>Extra settings a test class needs (key = ASP.NET configuration name).</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();

    public virtual async Task InitializeAsync()
    {
        await Kafka.InitializeAsync();
        await Database.InitializeAsync();
        Topic = Kafka.CreateTopic("touches", partitions: 4);
        OutcomeTopic = Kafka.CreateTopic("outcomes", partitions: 2);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSettings(ServiceSettings.Collector(Kafka, Topic, Database, WriteKey, ReadKey));
        builder.UseSetting("Kafka:OutcomeTopic", OutcomeTopic);
        builder.UseSetting("Collector:ServerKeys:0", ServerKey);
        builder.UseSetting("Collector:Kafka:AckTimeoutMs", "3000");
        builder.UseSettings(Settings);
    }

    public HttpClient CreateClient(string? key)
    {
        var client = CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await Database.DisposeAsync();
        await Kafka.DisposeAsync();
    }
}
