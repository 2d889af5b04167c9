using Microsoft.AspNetCore.Hosting;

namespace Ingest.Testing;

/// <summary>
/// The configuration a test gives the real services so they use its own dependencies: its Kafka topics, database and
/// Redis key prefix, short timeouts. One list per service, shared by every test project that hosts them.
/// </summary>
public static class ServiceSettings
{
    /// <summary>The worker on <paramref name="topic"/> in a consumer group of its own.</summary>
    public static Dictionary<string, string> Worker(KafkaCluster kafka, string topic, string deadLetterTopic, PostgresDatabase database, RedisServer redis,
        string? groupId = null) => new()
    {
        ["Kafka:BootstrapServers"] = kafka.BootstrapServers,
        ["Kafka:TouchTopic"] = topic,
        ["Kafka:DeadLetterTopic"] = deadLetterTopic,
        ["ConnectionStrings:Postgres"] = database.ConnectionString,
        ["ConnectionStrings:Redis"] = redis.ConnectionString,
        ["Redis:KeyPrefix"] = redis.KeyPrefix,
        ["Worker:GroupId"] = groupId ?? TestEnvironment.UniqueName("group"),
        ["Worker:SessionTimeoutMs"] = "6000",
        ["Worker:BatchTimeoutMs"] = "20",
    };

    /// <summary>The collector producing to <paramref name="topic"/>, reading <paramref name="database"/>, with one write and one read key.</summary>
    public static Dictionary<string, string> Collector(KafkaCluster kafka, string topic, PostgresDatabase database, string writeKey, string readKey) => new()
    {
        ["Kafka:BootstrapServers"] = kafka.BootstrapServers,
        ["Kafka:TouchTopic"] = topic,
        ["ConnectionStrings:Postgres"] = database.ConnectionString,
        ["Collector:WriteKeys:0"] = writeKey,
        ["Api:ReadKeys:0"] = readKey,
    };

    /// <summary>Applies every setting to the host being built.</summary>
    public static IWebHostBuilder UseSettings(this IWebHostBuilder builder, IEnumerable<KeyValuePair<string, string>> settings)
    {
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        return builder;
    }
}
