using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Ingest.Core.Time;
using Ingest.Core.Touches;
using Ingest.ServiceDefaults;

namespace Ingest.Worker.DeadLetters;

/// <summary>
/// <c>Ingest.Worker dlq list|replay [--since &lt;RFC3339&gt;] [--reason &lt;text&gt;]</c>: reads the dead-letter topic up to
/// its current end and lists each record (event id, reason, time) or produces the original record back to the touch
/// topic, where the worker stores it through the normal path (once, thanks to <c>event_id</c>), after a fix.
/// </summary>
public static class DeadLetterCommand
{
    private const string Usage = "usage: Ingest.Worker dlq list|replay [--since <RFC3339>] [--reason <text>]";

    // Beyond this without a message the reader has seen everything up to the end it measured at the start.
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Runs the command; <paramref name="args"/> starts after <c>dlq</c>. Returns the process exit code.</summary>
    public static int Run(KafkaOptions kafka, IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        if (!TryParseArguments(args, out var replay, out var since, out var reason, out var problem))
        {
            error.WriteLine(problem);
            error.WriteLine(Usage);
            return 2;
        }

        var matches = Read(kafka, since, reason);
        if (!replay)
        {
            foreach (var dead in matches)
            {
                output.WriteLine(string.Join('\t', EventIdOf(dead), Header(dead, TouchHeaders.DeadLetterReason) ?? "",
                    dead.Message.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)));
            }

            output.WriteLine($"dlq: listed={matches.Count}");
            return 0;
        }

        using var producer = new ProducerBuilder<byte[]?, byte[]>(KafkaClientConfig.Apply(kafka, new ProducerConfig { Acks = Acks.All, EnableIdempotence = true })).Build();
        foreach (var dead in matches)
        {
            // The original record as the collector produced it: the dead-letter headers are dropped, the others kept.
            var headers = new Headers();
            foreach (var header in dead.Message.Headers ?? [])
            {
                if (!TouchHeaders.IsDeadLetterHeader(header.Key))
                {
                    headers.Add(header.Key, header.GetValueBytes());
                }
            }

            producer.ProduceAsync(kafka.TouchTopic, new Message<byte[]?, byte[]> { Key = dead.Message.Key, Value = dead.Message.Value, Headers = headers })
                .GetAwaiter().GetResult();
        }

        output.WriteLine($"dlq: replayed={matches.Count}");
        return 0;
    }

    private static bool TryParseArguments(IReadOnlyList<string> args, out bool replay, out DateTimeOffset? since, out string? reason, out string problem)
    {
        replay = false;
        since = null;
        reason = null;
        problem = "";
        if (args.Count == 0 || args[0] is not ("list" or "replay"))
        {
            problem = "dlq needs list or replay";
            return false;
        }

        replay = args[0] == "replay";
        for (var i = 1; i < args.Count; i++)
        {
            if (i + 1 >= args.Count)
            {
                problem = $"{args[i]} needs a value";
                return false;
            }

            switch (args[i])
            {
                case "--since" when Rfc3339.TryParse(args[i + 1], out var parsed):
                    since = parsed;
                    break;
                case "--since":
                    problem = $"--since {args[i + 1]} is not an RFC 3339 time";
                    return false;
                case "--reason":
                    reason = args[i + 1];
                    break;
                default:
                    problem = $"unknown option {args[i]}";
                    return false;
            }

            i++;
        }

        return true;
    }

    /// <summary>Every dead letter up to the topic's end when reading started that matches the filters, in offset order per partition.</summary>
    private static List<ConsumeResult<byte[]?, byte[]>> Read(KafkaOptions kafka, DateTimeOffset? since, string? reason)
    {
        var config = KafkaClientConfig.Apply(kafka, new ConsumerConfig
        {
            GroupId = "ingest-dlq-reader-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            EnablePartitionEof = true,
        });
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(config).Build();
        using var admin = new AdminClientBuilder(KafkaClientConfig.Apply(kafka, new AdminClientConfig())).Build();
        var topic = admin.GetMetadata(kafka.DeadLetterTopic, TimeSpan.FromSeconds(10)).Topics.Single();
        var ends = new Dictionary<Partition, long>();
        foreach (var partition in topic.Partitions)
        {
            var tp = new TopicPartition(kafka.DeadLetterTopic, partition.PartitionId);
            var end = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value;
            if (end > 0)
            {
                ends[tp.Partition] = end;
            }
        }

        consumer.Assign(ends.Keys.Select(p => new TopicPartitionOffset(kafka.DeadLetterTopic, p, Offset.Beginning)));
        var matches = new List<ConsumeResult<byte[]?, byte[]>>();
        var open = new HashSet<Partition>(ends.Keys);
        while (open.Count > 0 && consumer.Consume(ReadTimeout) is { } next)
        {
            if (!next.IsPartitionEOF && Matches(next, since, reason))
            {
                matches.Add(next);
            }

            if (next.IsPartitionEOF || next.Offset.Value + 1 >= ends[next.Partition])
            {
                open.Remove(next.Partition);
            }
        }

        consumer.Close();
        return matches;
    }

    private static bool Matches(ConsumeResult<byte[]?, byte[]> dead, DateTimeOffset? since, string? reason) =>
        (since is null || dead.Message.Timestamp.UtcDateTime >= since.Value.UtcDateTime)
        && (reason is null || (Header(dead, TouchHeaders.DeadLetterReason) ?? "").Contains(reason, StringComparison.OrdinalIgnoreCase));

    private static string? Header(ConsumeResult<byte[]?, byte[]> message, string name) =>
        message.Message.Headers?.TryGetLastBytes(name, out var value) == true ? Encoding.UTF8.GetString(value) : null;

    /// <summary>The event id from the header, else from the record; a record too broken for either shows as "-".</summary>
    private static string EventIdOf(ConsumeResult<byte[]?, byte[]> dead)
    {
        if (Header(dead, TouchHeaders.EventId) is { Length: > 0 } id)
        {
            return id;
        }

        try
        {
            using var json = JsonDocument.Parse(dead.Message.Value);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("event_id", out var value)
                && value.ValueKind == JsonValueKind.String ? value.GetString()! : "-";
        }
        catch (JsonException)
        {
            return "-";
        }
    }
}
