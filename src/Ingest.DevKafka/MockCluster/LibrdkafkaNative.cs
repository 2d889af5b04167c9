using System.Reflection;
using System.Runtime.InteropServices;

namespace Ingest.DevKafka.MockCluster;

/// <summary>P/Invoke surface of librdkafka's mock cluster API (rdkafka_mock.h).</summary>
internal static partial class LibrdkafkaNative
{
    private const string Library = "librdkafka";

    // Same candidates, in the same order, as Confluent.Kafka's loader: the default build needs libsasl2.so.3,
    // which Debian 12 lacks, so there the centos8 build is the one that loads. Resolving to the same file keeps
    // one copy of librdkafka in the process.
    private static readonly string[] Candidates = ["librdkafka.so", "centos8-librdkafka.so", "alpine-librdkafka.so", "librdkafka.so.1"];

    static LibrdkafkaNative() => NativeLibrary.SetDllImportResolver(typeof(LibrdkafkaNative).Assembly, Resolve);

    /// <summary>Forces the resolver to be installed before the first P/Invoke.</summary>
    internal static void EnsureResolver() { }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library)
        {
            return IntPtr.Zero;
        }

        foreach (var dir in CandidateDirectories())
        {
            foreach (var file in Candidates)
            {
                var path = Path.Combine(dir, file);
                if (File.Exists(path) && NativeLibrary.TryLoad(path, out var handle))
                {
                    LoadedPath = path;
                    return handle;
                }
            }
        }

        throw new DllNotFoundException(
            $"librdkafka was not found next to {typeof(Confluent.Kafka.ProducerConfig).Assembly.Location}; is the librdkafka.redist package restored?");
    }

    private static IEnumerable<string> CandidateDirectories()
    {
        var rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        var confluentDir = Path.GetDirectoryName(typeof(Confluent.Kafka.ProducerConfig).Assembly.Location) ?? AppContext.BaseDirectory;
        yield return Path.Combine(confluentDir, "runtimes", rid, "native");
        yield return Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native");
        yield return AppContext.BaseDirectory;
    }

    /// <summary>The native file that was loaded, for diagnostics.</summary>
    internal static string? LoadedPath { get; private set; }

    internal const int RdKafkaProducer = 0;

    [LibraryImport(Library)]
    internal static partial IntPtr rd_kafka_conf_new();

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_conf_set(IntPtr conf, string name, string value, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Library)]
    internal static partial IntPtr rd_kafka_new(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Library)]
    internal static partial void rd_kafka_destroy(IntPtr rk);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_test_fatal_error(IntPtr rk, int err, string reason);

    [LibraryImport(Library)]
    internal static partial IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);

    [LibraryImport(Library)]
    internal static partial void rd_kafka_mock_cluster_destroy(IntPtr mcluster);

    [LibraryImport(Library)]
    internal static partial IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_mock_topic_create(IntPtr mcluster, string topic, int partitionCount, int replicationFactor);

    [LibraryImport(Library)]
    internal static partial int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);

    [LibraryImport(Library)]
    internal static partial int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);

    [LibraryImport(Library)]
    internal static partial void rd_kafka_mock_group_initial_rebalance_delay_ms(IntPtr mcluster, int delayMs);

    [LibraryImport(Library)]
    internal static partial IntPtr rd_kafka_err2str(int err);
}
