extern alias worker;

using Ingest.Contract.Tests.Generated;
using Ingest.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Ingest.Contract.Tests;

/// <summary>
/// The real collector and worker in-process, on the in-process Kafka mock cluster, a fresh Postgres database and a Redis
/// key prefix of their own; tests reach them only through the generated <see cref="IngestClient"/>.
/// </summary>
public sealed class ContractHost : WebApplicationFactory<Program>, IAsyncLifetime
{
    private const string WriteKey = "contract-write-key";
    private const string ReadKey = "contract-read-key";
    private WebApplicationFactory<worker::Program>? _worker;

    public KafkaCluster Kafka { get; } = new();
    public PostgresDatabase Database { get; } = new();
    public RedisServer Redis { get; } = new();
    public string Topic { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await Kafka.InitializeAsync();
        await Database.InitializeAsync();
        await Redis.InitializeAsync();
        Topic = Kafka.CreateTopic("touches", partitions: 2);
        var deadLetters = Kafka.CreateTopic("dlq", partitions: 1);
        _worker = new WebApplicationFactory<worker::Program>().WithWebHostBuilder(b =>
            b.UseSettings(ServiceSettings.Worker(Kafka, Topic, deadLetters, Database, Redis)));
        _ = _worker.Services;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSettings(ServiceSettings.Collector(Kafka, Topic, Database, WriteKey, ReadKey));
    }

    /// <summary>A generated client holding a write key (the <c>writeKey</c> scheme: Bearer).</summary>
    public IngestClient Writer() => Client(WriteKey);

    /// <summary>A generated client holding a read key (the <c>readKey</c> scheme: Bearer).</summary>
    public IngestClient Reader() => Client(ReadKey);

    private IngestClient Client(string key)
    {
        var http = CreateClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return new IngestClient(http);
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        if (_worker is not null)
        {
            await _worker.DisposeAsync();
        }

        await Redis.DisposeAsync();
        await Database.DisposeAsync();
        await Kafka.DisposeAsync();
    }
}
