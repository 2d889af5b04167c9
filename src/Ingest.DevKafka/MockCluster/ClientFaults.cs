using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Ingest.DevKafka.MockCluster;

/// <summary>Faults a test injects into a client it holds (librdkafka's <c>rd_kafka_test_fatal_error</c>).</summary>
public static class ClientFaults
{
    // Confluent.Kafka keeps the native rd_kafka_t behind an internal SafeHandle; reflection is the only way to it.
    private static readonly PropertyInfo NativeHandle = typeof(Handle).GetProperty("LibrdkafkaHandle", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("Confluent.Kafka.Handle.LibrdkafkaHandle not found; has Confluent.Kafka changed?");

    /// <summary>Raises a fatal error on the client, as a broker fencing an idempotent producer would: every later produce fails.</summary>
    public static void RaiseFatalError(Handle client, ErrorCode code, string reason)
    {
        LibrdkafkaNative.EnsureResolver();
        var handle = (SafeHandle)NativeHandle.GetValue(client)!;
        var result = LibrdkafkaNative.rd_kafka_test_fatal_error(handle.DangerousGetHandle(), (int)code, reason);
        if (result != 0)
        {
            throw new InvalidOperationException($"rd_kafka_test_fatal_error returned {(ErrorCode)result}.");
        }
    }
}
