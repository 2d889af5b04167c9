using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Ingest.Deploy.Tests;

/// <summary>
/// deploy/k8s cannot be applied here (no cluster), so the manifests are read and held to the essentials: probes,
/// limits and non-root pods, the collector's Service/PDB/HPA wiring, secret keys, the governance mount, and a
/// Kustomization that kustomize can build.
/// </summary>
public sealed class KubernetesManifestTests
{
    private const string K8s = "deploy/k8s";

    private readonly List<YamlMappingNode> _manifests = Directory.GetFiles(RepositoryFiles.PathOf(K8s), "*.yaml")
        .Where(f => Path.GetFileName(f) is not "kustomization.yaml" and not "secret.example.yaml")
        .SelectMany(RepositoryFiles.LoadYamlDocuments)
        .ToList();

    [Fact]
    public void Kubernetes_Manifests_AllLiveInTheIngestNamespace()
    {
        Assert.Single(_manifests, m => Kind(m) == "Namespace" && Name(m) == "ingest");
        Assert.All(_manifests.Where(m => Kind(m) != "Namespace"), m => Assert.Equal("ingest", m.TextAt("metadata", "namespace")));
        Assert.Equal("ingest", RepositoryFiles.LoadYaml($"{K8s}/kustomization.yaml").TextAt("namespace"));
    }

    [Fact]
    public void Kubernetes_Deployments_HaveProbesLimitsAndNonRootReadOnlyContainers()
    {
        var deployments = _manifests.Where(m => Kind(m) == "Deployment").ToList();
        Assert.Equal(["ingest-collector", "ingest-worker"], deployments.Select(Name).Order());
        foreach (var deployment in deployments)
        {
            var pod = deployment.MapAt("spec", "template", "spec");
            Assert.Equal("true", pod.TextAt("securityContext", "runAsNonRoot"));
            foreach (var container in pod.MapsAt("containers"))
            {
                Assert.Equal("/health/live", container.TextAt("startupProbe", "httpGet", "path"));
                Assert.Equal("/health/ready", container.TextAt("readinessProbe", "httpGet", "path"));
                Assert.Equal("/health/live", container.TextAt("livenessProbe", "httpGet", "path"));
                AssertResourcesBounded(container);
                AssertLockedDown(container);
            }
        }
    }

    [Theory]
    [InlineData("ingest-collector", 8080)]
    [InlineData("ingest-worker", 8081)]
    public void Kubernetes_Deployment_ListensOnTheContainerPortItsProbesUse(string name, int port)
    {
        var container = Containers(Single("Deployment", name)).Single();
        var declared = Assert.Single(container.MapsAt("ports"));
        Assert.Equal(port.ToString(CultureInfo.InvariantCulture), declared.TextAt("containerPort"));
        Assert.Equal($"http://+:{port}", Env(container)["Urls"].TextAt("value"));
        foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
        {
            var probePort = container.TextAt(probe, "httpGet", "port");
            Assert.True(probePort == declared.TextAt("name") || probePort == declared.TextAt("containerPort"), $"{name} {probe} uses port {probePort}");
        }
    }

    [Fact]
    public void Kubernetes_MigrationJob_RunsTheWorkerImageWithMigrateAsNonRoot()
    {
        var job = Single("Job", "ingest-migrate");
        var container = Containers(job).Single();
        Assert.Equal(["migrate"], container.At("args").Scalars());
        Assert.Equal(Containers(Single("Deployment", "ingest-worker")).Single().TextAt("image"), container.TextAt("image"));
        Assert.Equal("true", job.TextAt("spec", "template", "spec", "securityContext", "runAsNonRoot"));
        Assert.Contains(job.TextAt("spec", "template", "spec", "restartPolicy"), new[] { "OnFailure", "Never" });
        Assert.Contains("ConnectionStrings__Postgres", Env(container).Keys);
        AssertResourcesBounded(container);
        AssertLockedDown(container);
    }

    [Fact]
    public void Kubernetes_ServicePdbAndHpa_TargetTheCollector()
    {
        var collector = Single("Deployment", "ingest-collector");
        var labels = collector.MapAt("spec", "template", "metadata", "labels");
        var port = Containers(collector).Single().MapsAt("ports").Single();

        var service = Single("Service", "ingest-collector");
        Assert.All(service.MapAt("spec", "selector").Children, kv => Assert.Equal(kv.Value.ToString(), labels.TextAt(kv.Key.ToString())));
        var targetPort = service.MapsAt("spec", "ports").Single().TextAt("targetPort");
        Assert.True(targetPort == port.TextAt("name") || targetPort == port.TextAt("containerPort"), $"the Service targets port {targetPort}");

        var pdb = Single("PodDisruptionBudget", "ingest-collector");
        Assert.Equal("policy/v1", pdb.TextAt("apiVersion"));
        Assert.All(pdb.MapAt("spec", "selector", "matchLabels").Children, kv => Assert.Equal(kv.Value.ToString(), labels.TextAt(kv.Key.ToString())));

        var hpa = Single("HorizontalPodAutoscaler", "ingest-collector");
        Assert.Equal("autoscaling/v2", hpa.TextAt("apiVersion"));
        Assert.Equal("Deployment", hpa.TextAt("spec", "scaleTargetRef", "kind"));
        Assert.Equal("ingest-collector", hpa.TextAt("spec", "scaleTargetRef", "name"));
        var metric = hpa.MapsAt("spec", "metrics").Single();
        Assert.Equal("cpu", metric.TextAt("resource", "name"));
        Assert.Equal("Utilization", metric.TextAt("resource", "target", "type"));

        // The HPA owns the replica count; the PDB must still let a node drain evict one pod at the minimum.
        Assert.False(collector.At("spec").Has("replicas"), "a replicas field resets the HPA's count on every apply");
        var minReplicas = int.Parse(hpa.TextAt("spec", "minReplicas"), CultureInfo.InvariantCulture);
        Assert.True(minReplicas >= 2, "the collector runs at least two replicas");
        Assert.True(int.Parse(pdb.TextAt("spec", "minAvailable"), CultureInfo.InvariantCulture) < minReplicas, "the PDB would block every eviction");
    }

    [Fact]
    public void Kubernetes_EnvironmentNames_AreConfigurationNamesTheServicesRead()
    {
        var names = _manifests.Where(m => m.Find("spec")?.Has("template") == true).SelectMany(Containers).SelectMany(c => Env(c).Keys)
            .Concat(Single("ConfigMap", "ingest-config").MapAt("data").Children.Keys.Select(k => k.ToString()))
            .ToList();
        Assert.Contains("Kafka__BootstrapServers", names);
        Assert.All(names, name => Assert.Null(ConfigurationNames.Problem(name)));
    }

    [Fact]
    public void Kubernetes_SecretReferences_NameDocumentedKeysOfTheOneSecret()
    {
        var example = RepositoryFiles.LoadYaml($"{K8s}/secret.example.yaml");
        var documented = example.MapAt("stringData").Children.Keys.Select(k => k.ToString()).ToHashSet();
        var references = _manifests.SelectMany(m => m.AllNodes).OfType<YamlMappingNode>()
            .Select(n => n.Find("secretKeyRef")).OfType<YamlMappingNode>().ToList();
        Assert.NotEmpty(references);
        Assert.All(references, r => Assert.Equal(Name(example), r.TextAt("name")));
        var referenced = references.Select(r => r.TextAt("key")).ToHashSet();
        Assert.Equal(documented.Order(), referenced.Order());

        var readme = RepositoryFiles.ReadText("deploy/README.md");
        Assert.All(documented, key => Assert.Contains($"`{key}`", readme, StringComparison.Ordinal));
    }

    [Fact]
    public void Kubernetes_CollectorGovernanceRulesPath_PointsIntoTheMountedConfigMap()
    {
        var rulesPath = Single("ConfigMap", "ingest-config").TextAt("data", "Governance__RulesPath");
        var generator = AllKustomizations().SelectMany(k => Generators(k.Folder, k.Kustomization)).Single(g => g.Name == "ingest-governance");
        var pod = Single("Deployment", "ingest-collector").MapAt("spec", "template", "spec");
        var volume = pod.MapsAt("volumes").Single(v => v.Find("configMap")?.Find("name")?.ToString() == generator.Name);
        Assert.False(volume.At("configMap").Has("items"), "the rules keep their file name");
        var mount = Containers(Single("Deployment", "ingest-collector")).Single().MapsAt("volumeMounts").Single(m => m.TextAt("name") == volume.TextAt("name"));
        // A subPath mount never sees ConfigMap updates.
        Assert.False(mount.Has("subPath"));
        Assert.Equal($"{mount.TextAt("mountPath")}/{Path.GetFileName(Assert.Single(generator.Files))}", rulesPath);
    }

    [Fact]
    public void Kubernetes_Kustomization_ListsEveryManifestAndGeneratesTheGovernanceConfigMap()
    {
        var resources = RepositoryFiles.LoadYaml($"{K8s}/kustomization.yaml").At("resources").Scalars().ToHashSet();
        var files = Directory.GetFiles(RepositoryFiles.PathOf(K8s), "*.yaml").Select(Path.GetFileName)
            .Where(f => f is not "kustomization.yaml" and not "secret.example.yaml");
        Assert.All(files, f => Assert.Contains(f!, resources));
        Assert.DoesNotContain("secret.example.yaml", resources);

        var generators = AllKustomizations().SelectMany(k => Generators(k.Folder, k.Kustomization)).ToList();
        var governance = Assert.Single(generators, g => g.Name == "ingest-governance");
        Assert.Equal(RepositoryFiles.PathOf("deploy/governance/default.yaml"), Assert.Single(governance.Files));
    }

    [Fact]
    public void Kubernetes_KustomizationGeneratorFiles_LieInsideTheirOwnKustomizationFolder()
    {
        // kustomize (and kubectl apply -k) refuses generator files outside the kustomization's folder
        // ("security; file … is not in or below …"): a shared file needs a kustomization of its own beside it.
        foreach (var (folder, kustomization) in AllKustomizations())
        {
            foreach (var file in Generators(folder, kustomization).SelectMany(g => g.Files))
            {
                Assert.True(file.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal), $"{file} is outside {folder}: kustomize will not load it");
                Assert.True(File.Exists(file), $"{file} does not exist");
            }
        }
    }

    private static void AssertResourcesBounded(YamlMappingNode container)
    {
        foreach (var bound in new[] { "requests", "limits" })
        {
            Assert.True(container.At("resources", bound).Has("cpu") && container.At("resources", bound).Has("memory"), $"{container.TextAt("name")}: no cpu/memory {bound}");
        }
    }

    private static void AssertLockedDown(YamlMappingNode container)
    {
        Assert.Equal("false", container.TextAt("securityContext", "allowPrivilegeEscalation"));
        Assert.Equal("true", container.TextAt("securityContext", "readOnlyRootFilesystem"));
        Assert.Equal(["ALL"], container.At("securityContext", "capabilities", "drop").Scalars());
        // .NET writes its diagnostics sockets under /tmp: with a read-only root it needs a writable volume there.
        Assert.Contains(container.MapsAt("volumeMounts"), m => m.TextAt("mountPath") == "/tmp");
    }

    private YamlMappingNode Single(string kind, string name) => Assert.Single(_manifests, m => Kind(m) == kind && Name(m) == name);

    private static IEnumerable<YamlMappingNode> Containers(YamlMappingNode workload) => workload.MapsAt("spec", "template", "spec", "containers");

    private static Dictionary<string, YamlMappingNode> Env(YamlMappingNode container) =>
        container.Find("env") is YamlSequenceNode env ? env.Cast<YamlMappingNode>().ToDictionary(e => e.TextAt("name"), StringComparer.Ordinal) : [];

    private static string Kind(YamlMappingNode manifest) => manifest.TextAt("kind");

    private static string Name(YamlMappingNode manifest) => manifest.TextAt("metadata", "name");

    private static IEnumerable<(string Folder, YamlMappingNode Kustomization)> AllKustomizations() => Kustomizations(RepositoryFiles.PathOf(K8s));

    // Every kustomization reachable from folder through directory entries of `resources`.
    private static IEnumerable<(string Folder, YamlMappingNode Kustomization)> Kustomizations(string folder)
    {
        var kustomization = RepositoryFiles.LoadYaml(Path.Combine(folder, "kustomization.yaml"));
        yield return (folder, kustomization);
        foreach (var resource in kustomization.Find("resources")?.Scalars() ?? [])
        {
            var path = Path.GetFullPath(Path.Combine(folder, resource));
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
            .SelectMany(key => kustomization.Find(key) is YamlSequenceNode generators ? generators.Cast<YamlMappingNode>() : [])
            .Select(g => (g.TextAt("name"), g.Find("files")?.Scalars()
                .Select(f => Path.GetFullPath(Path.Combine(folder, f[(f.IndexOf('=', StringComparison.Ordinal) + 1)..])))
                .ToList() ?? []));
}
