using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Ingest.Deploy.Tests;

/// <summary>
/// docker-compose.yml cannot be run here (no container engine), so it is read and held to what `docker compose up`
/// needs: the services, KRaft Kafka, health-gated start order, ports and the configuration names the services read.
/// </summary>
public sealed partial class ComposeFileTests
{
    private static readonly string[] AppServices = ["migrate", "collector", "worker"];

    private readonly YamlMappingNode _services = RepositoryFiles.LoadYaml("docker-compose.yml").MapAt("services");

    [Fact]
    public void Compose_Services_IncludeTheInfrastructureTheMigrationAndBothServices()
    {
        foreach (var name in new[] { "kafka", "kafka-topics", "redis", "postgres", "migrate", "collector", "worker" })
        {
            Assert.True(_services.Has(name), $"docker-compose.yml has no service '{name}'");
        }
    }

    [Fact]
    public void Compose_Kafka_RunsOneKraftNodeWithoutZooKeeper()
    {
        var kafka = Environment(Service("kafka"));
        Assert.Equal("broker,controller", kafka["KAFKA_PROCESS_ROLES"]);
        Assert.Equal($"{kafka["KAFKA_NODE_ID"]}@kafka:9093", kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"]);
        Assert.Equal("CONTROLLER", kafka["KAFKA_CONTROLLER_LISTENER_NAMES"]);
        Assert.Contains("CONTROLLER://:9093", kafka["KAFKA_LISTENERS"], StringComparison.Ordinal);
        Assert.Contains("CONTROLLER:PLAINTEXT", kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"], StringComparison.Ordinal);
        Assert.Equal("1", kafka["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]);
        // kafka-storage.sh formats the log dir with CLUSTER_ID: a UUID in URL-safe base64, 22 characters.
        Assert.Matches(ClusterId(), kafka["CLUSTER_ID"]);

        Assert.DoesNotContain(kafka.Keys, k => k.Contains("ZOOKEEPER", StringComparison.Ordinal));
        Assert.DoesNotContain(_services.Children, s => s.Key.ToString().Contains("zookeeper", StringComparison.OrdinalIgnoreCase)
            || Image(s.Value).Contains("zookeeper", StringComparison.OrdinalIgnoreCase));
        Assert.StartsWith("apache/kafka:", Image(Service("kafka")), StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_TopicInit_CreatesTheTopicsTheServicesUse()
    {
        var command = string.Join(' ', Service("kafka-topics").At("command").Scalars());
        var settings = Environment(Service("collector"));
        foreach (var topic in new[] { settings["Kafka__TouchTopic"], settings["Kafka__DeadLetterTopic"] })
        {
            Assert.Matches(new Regex($@"--create --if-not-exists --topic {Regex.Escape(topic)} --partitions \d+"), command);
        }
    }

    [Fact]
    public void Compose_LongRunningServices_HaveHealthChecks()
    {
        foreach (var name in new[] { "kafka", "redis", "postgres", "collector", "worker" })
        {
            Assert.NotEmpty(Service(name).At("healthcheck", "test").Scalars());
        }
    }

    [Fact]
    public void Compose_DependsOn_WaitsForHealthyServicesAndFinishedOneShots()
    {
        Assert.Equal("service_healthy", Service("kafka-topics").TextAt("depends_on", "kafka", "condition"));
        Assert.Equal("service_healthy", Service("migrate").TextAt("depends_on", "postgres", "condition"));
        foreach (var name in new[] { "collector", "worker" })
        {
            Assert.Equal("service_completed_successfully", Service(name).TextAt("depends_on", "kafka-topics", "condition"));
            Assert.Equal("service_completed_successfully", Service(name).TextAt("depends_on", "migrate", "condition"));
        }

        Assert.Equal("service_healthy", Service("worker").TextAt("depends_on", "redis", "condition"));

        // A condition is only met if the service can meet it: a health check to pass, or a command that ends.
        foreach (var (name, service) in _services.Children.Select(kv => (kv.Key.ToString(), (YamlMappingNode)kv.Value)))
        {
            foreach (var (dependency, condition) in service.Find("depends_on") is YamlMappingNode deps
                ? deps.Children.Select(d => (d.Key.ToString(), d.Value.TextAt("condition")))
                : [])
            {
                if (condition == "service_healthy")
                {
                    Assert.True(Service(dependency).Has("healthcheck"), $"{name} waits for {dependency} to be healthy, which has no healthcheck");
                }
                else if (condition == "service_completed_successfully")
                {
                    Assert.Equal("no", Service(dependency).TextAt("restart"));
                }
            }
        }
    }

    [Fact]
    public void Compose_AppServices_UseOnlyConfigurationNamesTheServicesRead()
    {
        foreach (var name in AppServices)
        {
            var settings = Environment(Service(name));
            Assert.Equal("kafka:9092", settings["Kafka__BootstrapServers"]);
            Assert.StartsWith("Host=postgres;", settings["ConnectionStrings__Postgres"], StringComparison.Ordinal);
            Assert.All(settings.Keys, key => Assert.Null(ConfigurationNames.Problem(key)));
        }

        Assert.Equal("redis:6379", Environment(Service("worker"))["ConnectionStrings__Redis"]);
    }

    [Fact]
    public void Compose_MigrateService_RunsTheWorkerImageWithMigrate()
    {
        Assert.Equal(["migrate"], Service("migrate").At("command").Scalars());
        Assert.Equal(Image(Service("worker")), Image(Service("migrate")));
        Assert.Equal("Ingest.Worker", Service("migrate").TextAt("build", "args", "SERVICE"));
    }

    [Theory]
    [InlineData("collector", "Ingest.Collector", 8080)]
    [InlineData("worker", "Ingest.Worker", 8081)]
    public void Compose_Service_ListensPublishesAndIsCheckedOnOnePort(string name, string project, int port)
    {
        var service = Service(name);
        Assert.Equal(project, service.TextAt("build", "args", "SERVICE"));
        Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), service.TextAt("build", "args", "PORT"));
        Assert.Equal($"http://+:{port}", Environment(service)["Urls"]);
        Assert.Contains($"127.0.0.1:{port}:{port}", service.At("ports").Scalars());
        Assert.Contains($"http://127.0.0.1:{port}/health/ready", service.At("healthcheck", "test").Scalars());
    }

    [Fact]
    public void Compose_Collector_ReadsTheGovernanceRulesFromTheMountedRepositoryFile()
    {
        var collector = Service("collector");
        var rulesPath = Environment(collector)["Governance__RulesPath"];
        var mount = collector.At("volumes").Scalars().Select(v => v.Split(':')).Single(v => rulesPath.StartsWith(v[1] + "/", StringComparison.Ordinal));
        Assert.Equal("ro", mount.ElementAtOrDefault(2));
        var hostFile = Path.Combine(RepositoryFiles.PathOf(mount[0]), rulesPath[(mount[1].Length + 1)..]);
        Assert.True(File.Exists(hostFile), $"Governance__RulesPath {rulesPath} maps to {hostFile}, which does not exist");
    }

    [Fact]
    public void Compose_DevelopmentKeys_AreMarkedDevelopmentOnly()
    {
        Assert.Contains("DEVELOPMENT-ONLY", RepositoryFiles.ReadText("docker-compose.yml"), StringComparison.Ordinal);
        var collector = Environment(Service("collector"));
        Assert.All(collector.Where(kv => kv.Key.StartsWith("Collector__WriteKeys", StringComparison.Ordinal)
                || kv.Key.StartsWith("Api__ReadKeys", StringComparison.Ordinal)
                || kv.Key.StartsWith("Webhooks__", StringComparison.Ordinal)),
            kv => Assert.StartsWith("dev-", kv.Value, StringComparison.Ordinal));
    }

    private YamlMappingNode Service(string name) => _services.MapAt(name);

    private static string Image(YamlNode service) => service.Find("image")?.ToString() ?? "";

    // `environment` as a mapping (with `<<` merges, whose keys the explicit ones override) or as a KEY=value list.
    private static Dictionary<string, string> Environment(YamlMappingNode service)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (service.Find("environment"))
        {
            case YamlMappingNode map:
                foreach (var merged in map.Children.Where(kv => kv.Key.ToString() == "<<").Select(kv => (YamlMappingNode)kv.Value))
                {
                    foreach (var (key, value) in merged.Children)
                    {
                        result[key.ToString()] = value.ToString();
                    }
                }

                foreach (var (key, value) in map.Children.Where(kv => kv.Key.ToString() != "<<"))
                {
                    result[key.ToString()] = value.ToString();
                }

                break;
            case YamlSequenceNode list:
                foreach (var item in list.Children.Select(i => i.ToString().Split('=', 2)))
                {
                    result[item[0]] = item.ElementAtOrDefault(1) ?? "";
                }

                break;
        }

        return result;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{22}$")]
    private static partial Regex ClusterId();
}
