using System.Globalization;
using System.Text;

namespace Ingest.Core.Touches;

/// <summary>The Kafka header names of <c>touches.v1</c> and <c>touches.dlq</c> and the schema version they carry: one place for producer, consumer and tools.</summary>
public static class TouchHeaders
{
    /// <summary>Version of the record's JSON schema (<see cref="TouchRecord.SchemaVersion"/>); absent means 1.</summary>
    public const string SchemaVersion = "schema-version";

    /// <summary>The record's <c>event_id</c>, so tools find a touch without parsing the value.</summary>
    public const string EventId = "event-id";

    /// <summary>Dead letters: why the worker could not store the record.</summary>
    public const string DeadLetterReason = "dlq-reason";

    /// <summary>Dead letters: the topic, partition and offset the record was read from.</summary>
    public const string DeadLetterTopic = "dlq-topic";

    /// <inheritdoc cref="DeadLetterTopic"/>
    public const string DeadLetterPartition = "dlq-partition";

    /// <inheritdoc cref="DeadLetterTopic"/>
    public const string DeadLetterOffset = "dlq-offset";

    /// <summary>Whether <paramref name="name"/> is one of the headers the worker adds when it dead-letters a record.</summary>
    public static bool IsDeadLetterHeader(string name) =>
        name is DeadLetterReason or DeadLetterTopic or DeadLetterPartition or DeadLetterOffset;

    private static readonly byte[] CurrentSchemaVersionBytes = Encoding.ASCII.GetBytes(TouchRecord.SchemaVersion.ToString(CultureInfo.InvariantCulture));

    /// <summary>The value of <see cref="SchemaVersion"/> this code writes and reads.</summary>
    public static ReadOnlySpan<byte> CurrentSchemaVersion => CurrentSchemaVersionBytes;

    /// <summary>A header value for <see cref="SchemaVersion"/> (a copy: header values are handed to librdkafka as arrays).</summary>
    public static byte[] CurrentSchemaVersionValue() => CurrentSchemaVersion.ToArray();
}
