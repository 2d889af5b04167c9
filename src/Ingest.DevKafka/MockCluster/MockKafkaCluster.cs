using System.Net;
using System.Runtime.InteropServices;
using System.Text;

namespace Ingest.DevKafka.MockCluster;

/// <summary>Settings of a mock cluster.</summary>
public sealed record MockKafkaClusterOptions
{
    /// <summary>Number of brokers (ids 1..N).</summary>
    public int Brokers { get; init; } = 1;

    /// <summary>
    /// First fixed bootstrap port (broker i is reachable for bootstrapping at FixedPort + i - 1); null bootstraps at the
    /// mock's own random ports. Either way the brokers advertise their own listeners, so after the first metadata
    /// request clients talk to them directly.
    /// </summary>
    public int? FixedPort { get; init; }

    /// <summary>Host the fixed ports bind to.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Topics to create with their partition counts.</summary>
    public IReadOnlyDictionary<string, int> Topics { get; init; } = new Dictionary<string, int>();
}

/// <summary>
/// librdkafka's in-memory mock cluster: a real Kafka wire-protocol broker with consumer groups and committed offsets,
/// plus fault injection (broker down/up). Development and tests only; the services never reference it.
/// </summary>
public sealed class MockKafkaCluster : IAsyncDisposable
{
    private readonly IntPtr _handle;
    private readonly IntPtr _cluster;
    private readonly List<TcpForwarder> _forwarders = [];
    private readonly Lock _gate = new();
    private readonly HashSet<int> _down = [];
    private bool _disposed;

    private MockKafkaCluster(IntPtr handle, IntPtr cluster, int brokers)
    {
        _handle = handle;
        _cluster = cluster;
        BrokerCount = brokers;
    }

    /// <summary>Comma-separated bootstrap servers clients should use.</summary>
    public string BootstrapServers { get; private set; } = "";

    /// <summary>Number of brokers in the cluster.</summary>
    public int BrokerCount { get; }

    /// <summary>Starts a cluster, creates its topics and, when asked, binds the fixed bootstrap ports.</summary>
    public static MockKafkaCluster Start(MockKafkaClusterOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Brokers, 1);
        LibrdkafkaNative.EnsureResolver();

        var errstr = new byte[512];
        var conf = LibrdkafkaNative.rd_kafka_conf_new();
        LibrdkafkaNative.rd_kafka_conf_set(conf, "log_level", "3", errstr, (UIntPtr)errstr.Length);
        var handle = LibrdkafkaNative.rd_kafka_new(LibrdkafkaNative.RdKafkaProducer, conf, errstr, (UIntPtr)errstr.Length);
        if (handle == IntPtr.Zero)
        {
            throw new InvalidOperationException("rd_kafka_new failed: " + Encoding.UTF8.GetString(errstr).TrimEnd('\0'));
        }

        var cluster = LibrdkafkaNative.rd_kafka_mock_cluster_new(handle, options.Brokers);
        if (cluster == IntPtr.Zero)
        {
            LibrdkafkaNative.rd_kafka_destroy(handle);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }

        var mock = new MockKafkaCluster(handle, cluster, options.Brokers);
        try
        {
            // Without this, a consumer joining a group waits the broker default (3 s) before its first assignment.
            LibrdkafkaNative.rd_kafka_mock_group_initial_rebalance_delay_ms(cluster, 0);
            mock.Bootstrap(options);
            foreach (var (topic, partitions) in options.Topics)
            {
                mock.CreateTopic(topic, partitions);
            }
        }
        catch
        {
            mock.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        return mock;
    }

    private void Bootstrap(MockKafkaClusterOptions options)
    {
        var actual = Marshal.PtrToStringUTF8(LibrdkafkaNative.rd_kafka_mock_cluster_bootstraps(_cluster)) ?? "";
        if (options.FixedPort is not { } firstPort)
        {
            BootstrapServers = actual;
            return;
        }

        // Only the bootstrap connection goes through the forwarder: advertising the forwarder instead would copy every
        // produce and fetch byte through it, which doubled the broker process's CPU under load (load-tests/RESULTS.md).
        var endpoints = actual.Split(',', StringSplitOptions.RemoveEmptyEntries);
        var bootstrap = new List<string>(endpoints.Length);
        for (var i = 0; i < endpoints.Length; i++)
        {
            var port = firstPort + i;
            _forwarders.Add(new TcpForwarder(new IPEndPoint(IPAddress.Parse(options.Host), port), IPEndPoint.Parse(endpoints[i])));
            bootstrap.Add($"{options.Host}:{port}");
        }

        BootstrapServers = string.Join(',', bootstrap);
    }

    /// <summary>Creates a topic (replication factor = broker count, at most 3).</summary>
    public void CreateTopic(string topic, int partitions)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        Check(LibrdkafkaNative.rd_kafka_mock_topic_create(_cluster, topic, partitions, Math.Min(3, BrokerCount)), $"create topic {topic}");
    }

    /// <summary>Takes a broker down: open connections are closed and new ones refused until <see cref="SetBrokerUp"/>.</summary>
    public void SetBrokerDown(int brokerId)
    {
        Check(LibrdkafkaNative.rd_kafka_mock_broker_set_down(_cluster, brokerId), $"broker {brokerId} down");
        lock (_gate)
        {
            _down.Add(brokerId);
        }
    }

    /// <summary>Brings a broker back up.</summary>
    public void SetBrokerUp(int brokerId)
    {
        Check(LibrdkafkaNative.rd_kafka_mock_broker_set_up(_cluster, brokerId), $"broker {brokerId} up");
        lock (_gate)
        {
            _down.Remove(brokerId);
        }
    }

    /// <summary>Broker ids with their state.</summary>
    public IReadOnlyList<(int Id, bool Up)> Brokers()
    {
        lock (_gate)
        {
            return Enumerable.Range(1, BrokerCount).Select(id => (id, !_down.Contains(id))).ToList();
        }
    }

    private static void Check(int err, string what)
    {
        if (err != 0)
        {
            var text = Marshal.PtrToStringUTF8(LibrdkafkaNative.rd_kafka_err2str(err));
            throw new InvalidOperationException($"Kafka mock: {what} failed: {text} ({err})");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var forwarder in _forwarders)
        {
            await forwarder.DisposeAsync();
        }

        LibrdkafkaNative.rd_kafka_mock_cluster_destroy(_cluster);
        LibrdkafkaNative.rd_kafka_destroy(_handle);
    }
}
