using Confluent.Kafka;
using Ingest.DevKafka.MockCluster;
using Xunit;

namespace Ingest.Testing;

/// <summary>An in-process librdkafka mock cluster (real Kafka protocol over TCP). Create unique topics per test.</summary>
public sealed class KafkaCluster : IAsyncLifetime
{
    private MockKafkaCluster? _cluster;

    public MockKafkaCluster Cluster => _cluster ?? throw new InvalidOperationException("Kafka mock not started");

    public string BootstrapServers => Cluster.BootstrapServers;

    public Task InitializeAsync()
    {
        _cluster = MockKafkaCluster.Start(new MockKafkaClusterOptions { Brokers = 1 });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    /// <summary>Creates a topic with a unique name and returns it.</summary>
    public string CreateTopic(string prefix = "touches", int partitions = 4)
    {
        var name = TestEnvironment.UniqueName(prefix);
        Cluster.CreateTopic(name, partitions);
        return name;
    }

    /// <summary>Reads messages from the start of a topic until <paramref name="count"/> arrived or the timeout passed.</summary>
    public List<ConsumeResult<byte[]?, byte[]>> ReadAll(string topic, int count, TimeSpan? timeout = null) =>
        Read(topic, count, static _ => false, timeout);

    /// <summary>The last message with this <c>event-id</c> header, reading from the start of the topic until it shows up.</summary>
    public ConsumeResult<byte[]?, byte[]> FindEvent(string topic, string eventId, TimeSpan? timeout = null)
    {
        bool Match(ConsumeResult<byte[]?, byte[]> m) =>
            m.Message.Headers.TryGetLastBytes(Ingest.Core.Touches.TouchHeaders.EventId, out var id) && System.Text.Encoding.UTF8.GetString(id) == eventId;
        var found = Read(topic, int.MaxValue, Match, timeout).LastOrDefault(Match);
        return found ?? throw new InvalidOperationException($"No message with event id {eventId} on {topic}");
    }

    private List<ConsumeResult<byte[]?, byte[]>> Read(string topic, int count, Func<ConsumeResult<byte[]?, byte[]>, bool> stop, TimeSpan? timeout)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = TestEnvironment.UniqueName("reader"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        };
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(config).Build();
        consumer.Subscribe(topic);
        var results = new List<ConsumeResult<byte[]?, byte[]>>();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (results.Count < count && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is { IsPartitionEOF: false, Message: not null })
            {
                results.Add(result);
                if (stop(result))
                {
                    break;
                }
            }
        }

        consumer.Close();
        return results;
    }
}
