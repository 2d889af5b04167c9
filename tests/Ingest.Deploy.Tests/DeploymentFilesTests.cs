using System.Text.RegularExpressions;
using Ingest.ServiceDefaults;
using Ingest.Worker;
using YamlDotNet.RepresentationModel;

namespace Ingest.Deploy.Tests;

/// <summary>
/// docker-compose.yml, the Dockerfile and deploy/k8s cannot run here (no container engine), so they are read and held to
/// the essentials: services, ports, probes, limits, non-root, and configuration names the services actually read.
/// </summary>
public sealed partial class DeploymentFilesTests
{
    private static readonly string Root = FindRoot();

    // Configuration names the services read (DESIGN.md §2); options classes are checked by reflection below.
    private static readonly Regex KnownName = KnownNames();

    [Fact]
    public void Compose_RunsKafkaInKraftModeAndEveryService()
    {
        var services = (YamlMappingNode)Load("docker-compose.yml")["services"];
        foreach (var name in new[] { "kafka", "kafka-topics", "redis", "postgres", "migrate", "collector", "worker" })
        {
            Assert.True(services.Children.ContainsKey(name), $"docker-compose.yml has no service '{name}'");
        }

        var kafkaEnv = Env(Map(services, "kafka"));
        Assert.Equal("broker,controller", kafkaEnv["KAFKA_PROCESS_ROLES"]);
        Assert.Contains("CONTROLLER", kafkaEnv["KAFKA_CONTROLLER_LISTENER_NAMES"], StringComparison.Ordinal);
        Assert.DoesNotContain(services.Children.Keys, k => k.ToString().Contains("zookeeper", StringComparison.OrdinalIgnoreCase));
        Assert.Contains("8080:8080", Scalars(Map(services, "collector")["ports"]).Single(), StringComparison.Ordinal);
        foreach (var name in new[] { "kafka", "redis", "postgres", "collector", "worker" })
        {
            Assert.True(Map(services, name).Children.ContainsKey("healthcheck"), $"service '{name}' has no healthcheck");
        }

        Assert.Contains("touches.v1", Scalars(Map(services, "kafka-topics")["command"]).Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_AppServices_UseOnlyConfigurationNamesTheServicesRead()
    {
        var services = (YamlMappingNode)Load("docker-compose.yml")["services"];
        foreach (var name in new[] { "migrate", "collector", "worker" })
        {
            var env = Env(Map(services, name));
            Assert.NotEmpty(env);
            Assert.All(env.Keys, AssertKnown);
            Assert.Equal("kafka:9092", env.GetValueOrDefault("Kafka__BootstrapServers"));
        }
    }

    [Fact]
    public void Dockerfile_IsMultiStage_NonRoot_WithHealthCheck()
    {
        var dockerfile = File.ReadAllText(System.IO.Path.Combine(Root, "deploy", "Dockerfile"));
        Assert.True(Regex.Matches(dockerfile, @"^FROM .+ AS \w+", RegexOptions.Multiline).Count >= 2, "the Dockerfile must be multi-stage");
        Assert.Matches(new Regex(@"^USER \$APP_UID", RegexOptions.Multiline), dockerfile);
        Assert.Matches(new Regex(@"^HEALTHCHECK .*/health/live", RegexOptions.Multiline), dockerfile);
        Assert.Contains("mcr.microsoft.com/dotnet/aspnet:10.0", dockerfile, StringComparison.Ordinal);
    }

    [Fact]
    public void Kubernetes_Deployments_HaveProbesLimitsAndRunAsNonRoot()
    {
        var deployments = Manifests().Where(m => Kind(m) == "Deployment").ToList();
        Assert.Equal(["ingest-collector", "ingest-worker"], deployments.Select(Name).Order());
        foreach (var deployment in deployments)
        {
            var pod = Path(deployment, "spec", "template", "spec");
            Assert.Equal("true", Path(pod, "securityContext", "runAsNonRoot").ToString());
            foreach (var container in ((YamlSequenceNode)pod["containers"]).Cast<YamlMappingNode>())
            {
                Assert.True(container.Children.ContainsKey("readinessProbe"), $"{Name(deployment)}: no readinessProbe");
                Assert.True(container.Children.ContainsKey("livenessProbe"), $"{Name(deployment)}: no livenessProbe");
                Assert.Equal("/health/ready", Path(container, "readinessProbe", "httpGet", "path").ToString());
                Assert.Equal("/health/live", Path(container, "livenessProbe", "httpGet", "path").ToString());
                var limits = (YamlMappingNode)Path(container, "resources", "limits");
                Assert.True(limits.Children.ContainsKey("cpu") && limits.Children.ContainsKey("memory"), $"{Name(deployment)}: no cpu/memory limits");
                Assert.Equal("false", Path(container, "securityContext", "allowPrivilegeEscalation").ToString());
                foreach (var env in ((YamlSequenceNode)container["env"]).Cast<YamlMappingNode>())
                {
                    AssertKnown(env["name"].ToString());
                }
            }
        }
    }

    [Fact]
    public void Kubernetes_ServicePdbAndHpa_TargetTheCollector()
    {
        var manifests = Manifests().ToList();
        var collector = manifests.Single(m => Kind(m) == "Deployment" && Name(m) == "ingest-collector");
        var labels = (YamlMappingNode)Path(collector, "spec", "template", "metadata", "labels");
        var containerPort = Path(((YamlSequenceNode)Path(collector, "spec", "template", "spec", "containers"))[0], "ports");

        var service = manifests.Single(m => Kind(m) == "Service");
        foreach (var (key, value) in (YamlMappingNode)Path(service, "spec", "selector"))
        {
            Assert.Equal(value.ToString(), labels[key].ToString());
        }

        var targetPort = Path(((YamlSequenceNode)Path(service, "spec", "ports"))[0], "targetPort").ToString();
        Assert.Contains(((YamlSequenceNode)containerPort).Cast<YamlMappingNode>(), p => p["name"].ToString() == targetPort || p["containerPort"].ToString() == targetPort);
        Assert.Equal("8080", ((YamlMappingNode)((YamlSequenceNode)containerPort)[0])["containerPort"].ToString());

        var pdb = manifests.Single(m => Kind(m) == "PodDisruptionBudget");
        Assert.Equal(labels["app.kubernetes.io/name"].ToString(), Path(pdb, "spec", "selector", "matchLabels", "app.kubernetes.io/name").ToString());
        var hpa = manifests.Single(m => Kind(m) == "HorizontalPodAutoscaler");
        Assert.Equal("autoscaling/v2", hpa["apiVersion"].ToString());
        Assert.Equal("ingest-collector", Path(hpa, "spec", "scaleTargetRef", "name").ToString());
    }

    [Fact]
    public void Kubernetes_SecretReferences_AreAllDocumentedInTheExampleSecret()
    {
        var example = (YamlMappingNode)Path(Load(System.IO.Path.Combine("deploy", "k8s", "secret.example.yaml")), "stringData");
        var referenced = Manifests().SelectMany(AllNodes).OfType<YamlMappingNode>()
            .Where(n => n.Children.ContainsKey("secretKeyRef"))
            .Select(n => Path(n, "secretKeyRef", "key").ToString())
            .Distinct()
            .ToList();
        Assert.NotEmpty(referenced);
        Assert.All(referenced, key => Assert.True(example.Children.ContainsKey(key), $"secret key '{key}' is not in secret.example.yaml"));
    }

    [Fact]
    public void Kubernetes_Kustomization_ListsEveryManifestAndGeneratesTheGovernanceConfigMap()
    {
        var k8s = System.IO.Path.Combine(Root, "deploy", "k8s");
        var resources = Scalars(Load(System.IO.Path.Combine("deploy", "k8s", "kustomization.yaml"))["resources"]).ToHashSet();
        var files = Directory.GetFiles(k8s, "*.yaml").Select(System.IO.Path.GetFileName)
            .Where(f => f is not "kustomization.yaml" and not "secret.example.yaml");
        Assert.All(files, f => Assert.Contains(f!, resources));

        var generators = Kustomizations(k8s).SelectMany(k => Generators(k.Folder, k.Kustomization)).ToList();
        var governance = Assert.Single(generators, g => g.Name == "ingest-governance");
        Assert.Equal(System.IO.Path.Combine(Root, "deploy", "governance", "default.yaml"), Assert.Single(governance.Files));
    }

    [Fact]
    public void Kubernetes_KustomizationGeneratorFiles_LieInsideTheirOwnKustomizationFolder()
    {
        // kustomize (and kubectl apply -k) refuses generator files outside the kustomization's folder
        // ("security; file … is not in or below …"): a shared file needs a kustomization of its own beside it.
        foreach (var (folder, kustomization) in Kustomizations(System.IO.Path.Combine(Root, "deploy", "k8s")))
        {
            foreach (var file in Generators(folder, kustomization).SelectMany(g => g.Files))
            {
                Assert.True(file.StartsWith(folder + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal),
                    $"{file} is outside {folder}: kustomize will not load it");
                Assert.True(File.Exists(file), $"{file} does not exist");
            }
        }
    }

    private static void AssertKnown(string name)
    {
        Assert.True(KnownName.IsMatch(name), $"'{name}' is not a configuration name the services read");
        var parts = name.Split("__");
        var options = parts[0] switch
        {
            "Kafka" => typeof(KafkaOptions),
            "Worker" => typeof(WorkerOptions),
            _ => null,
        };
        if (options is not null && parts[1] != "Client")
        {
            Assert.True(options.GetProperty(parts[1]) is not null, $"'{name}': {options.Name} has no property {parts[1]}");
        }
    }

    [GeneratedRegex(@"^(Kafka__\w+|ConnectionStrings__(Postgres|Redis)|Collector__(WriteKeys__\d+|CorsOrigins__\d+|DefaultPhoneRegion|RateLimit__\w+|Kafka__\w+|Limits__\w+)|Api__ReadKeys__\d+|Webhooks__(CallRail__SigningKeys__\d+|Twilio__(AuthToken|PublicBaseUrl)|GoogleAds__Key|Meta__(AppSecret|VerifyToken))|Forms__\w+__(RedirectUrl|AllowedOrigins__\d+)|Governance__(RulesPath|Taxonomy)|Worker__\w+|Redis__KeyPrefix|Logging__\w+(__\w+)*|Urls|OTEL_\w+|ASPNETCORE_\w+|DOTNET_\w+)$")]
    private static partial Regex KnownNames();

    private static IEnumerable<YamlMappingNode> Manifests()
    {
        foreach (var file in Directory.GetFiles(System.IO.Path.Combine(Root, "deploy", "k8s"), "*.yaml").Where(f => !f.EndsWith("kustomization.yaml", StringComparison.Ordinal)))
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(File.ReadAllText(file)));
            foreach (var document in stream.Documents)
            {
                yield return (YamlMappingNode)document.RootNode;
            }
        }
    }

    private static YamlMappingNode Load(string relative)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(System.IO.Path.Combine(Root, relative))));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    // Every kustomization reachable from folder through directory entries of `resources`.
    private static IEnumerable<(string Folder, YamlMappingNode Kustomization)> Kustomizations(string folder)
    {
        var kustomization = Load(System.IO.Path.Combine(folder, "kustomization.yaml"));
        yield return (folder, kustomization);
        foreach (var resource in kustomization.Children.TryGetValue("resources", out var list) ? Scalars(list) : [])
        {
            var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, resource));
            if (Directory.Exists(path))
            {
                foreach (var nested in Kustomizations(path))
                {
                    yield return nested;
                }
            }
            else
            {
                Assert.True(File.Exists(path), $"{folder}/kustomization.yaml lists {resource}, which does not exist");
            }
        }
    }

    // configMapGenerator / secretGenerator entries with their files as full paths ("key=path" names the key).
    private static IEnumerable<(string Name, List<string> Files)> Generators(string folder, YamlMappingNode kustomization) =>
        new[] { "configMapGenerator", "secretGenerator" }
            .Where(key => kustomization.Children.ContainsKey(key))
            .SelectMany(key => ((YamlSequenceNode)kustomization[key]).Cast<YamlMappingNode>())
            .Select(g => (g["name"].ToString(), g.Children.TryGetValue("files", out var files)
                ? Scalars(files).Select(f => System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, f[(f.IndexOf('=', StringComparison.Ordinal) + 1)..]))).ToList()
                : []));

    private static YamlMappingNode Map(YamlMappingNode parent, string key) => (YamlMappingNode)parent[key];

    private static Dictionary<string, string> Env(YamlMappingNode service) =>
        service.Children.TryGetValue("environment", out var env)
            ? ((YamlMappingNode)env).Children.Where(kv => kv.Key.ToString() != "<<").ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToString())
                .Concat(((YamlMappingNode)env).Children.Where(kv => kv.Key.ToString() == "<<").SelectMany(kv => ((YamlMappingNode)kv.Value).Children)
                    .Select(kv => new KeyValuePair<string, string>(kv.Key.ToString(), kv.Value.ToString())))
                .GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.First().Value)
            : [];

    private static IEnumerable<string> Scalars(YamlNode node) =>
        node is YamlSequenceNode sequence ? sequence.Children.Select(c => c.ToString()) : [node.ToString()];

    private static string Kind(YamlMappingNode manifest) => manifest["kind"].ToString();

    private static string Name(YamlMappingNode manifest) => Path(manifest, "metadata", "name").ToString();

    private static YamlNode Path(YamlNode node, params string[] keys) =>
        keys.Aggregate(node, (current, key) => ((YamlMappingNode)current)[key]);

    private static IEnumerable<YamlNode> AllNodes(YamlNode node) => node.AllNodes;

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Ingest.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Ingest.sln not found");
    }
}
