using Ingest.ServiceDefaults;
using Ingest.Worker.Consuming;

namespace Ingest.Worker.Tests.Consuming;

/// <summary>Every Kafka client of the worker gets the <c>Kafka:Client:*</c> settings (SASL, TLS …).</summary>
public sealed class KafkaClientConfigTests
{
    private static readonly KafkaOptions Secured = new()
    {
        BootstrapServers = "broker-1:9093",
        Client = new Dictionary<string, string>
        {
            ["security.protocol"] = "SASL_SSL",
            ["sasl.mechanism"] = "SCRAM-SHA-512",
            ["sasl.username"] = "ingest",
        },
    };

    [Fact]
    public void DeadLetterProducer_GetsTheClientSettings()
    {
        var config = DeadLetterPublisher.CreateConfig(Secured);

        Assert.Equal("broker-1:9093", config.BootstrapServers);
        Assert.Equal("SASL_SSL", config.Get("security.protocol"));
        Assert.Equal("SCRAM-SHA-512", config.Get("sasl.mechanism"));
        Assert.Equal("ingest", config.Get("sasl.username"));
        Assert.True(config.EnableIdempotence);
    }

    [Fact]
    public void Consumer_GetsTheClientSettings()
    {
        var config = TouchConsumer.CreateConsumerConfig(Secured, new WorkerOptions { GroupId = "g" });

        Assert.Equal("broker-1:9093", config.BootstrapServers);
        Assert.Equal("SASL_SSL", config.Get("security.protocol"));
        Assert.Equal("ingest", config.Get("sasl.username"));
        Assert.Equal("g", config.GroupId);
        Assert.False(config.EnableAutoOffsetStore);
    }
}
