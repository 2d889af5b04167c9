using YamlDotNet.RepresentationModel;

namespace Ingest.Deploy.Tests;

/// <summary>Reads the repository's deployment files: the root is the folder that holds Ingest.sln.</summary>
internal static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    /// <summary>Full path of a repository-relative path written with forward slashes.</summary>
    public static string PathOf(string relative) => Path.GetFullPath(Path.Combine(Root, relative));

    public static string ReadText(string relative) => File.ReadAllText(PathOf(relative));

    /// <summary>The first YAML document of a file (repository-relative or absolute path).</summary>
    public static YamlMappingNode LoadYaml(string path) => LoadYamlDocuments(path).Single();

    /// <summary>Every document of a multi-document YAML file.</summary>
    public static IReadOnlyList<YamlMappingNode> LoadYamlDocuments(string path)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(PathOf(path))));
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Ingest.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds Ingest.sln");
    }
}

/// <summary>Small accessors over YamlDotNet's representation model.</summary>
internal static class YamlNodes
{
    /// <summary>The node at a path of mapping keys; fails the test with the missing key when there is none.</summary>
    public static YamlNode At(this YamlNode node, params string[] keys)
    {
        foreach (var key in keys)
        {
            var map = Assert.IsType<YamlMappingNode>(node);
            Assert.True(map.Children.TryGetValue(key, out var child), $"no '{key}' in {string.Join('.', keys)}");
            node = child;
        }

        return node;
    }

    public static YamlMappingNode MapAt(this YamlNode node, params string[] keys) => Assert.IsType<YamlMappingNode>(node.At(keys));

    public static IEnumerable<YamlMappingNode> MapsAt(this YamlNode node, params string[] keys) =>
        Assert.IsType<YamlSequenceNode>(node.At(keys)).Cast<YamlMappingNode>();

    public static string TextAt(this YamlNode node, params string[] keys) => node.At(keys).ToString();

    public static bool Has(this YamlNode node, string key) => node is YamlMappingNode map && map.Children.ContainsKey(key);

    public static YamlNode? Find(this YamlNode node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(key, out var child) ? child : null;

    /// <summary>A scalar as a one-item list, a sequence of scalars as its items.</summary>
    public static IReadOnlyList<string> Scalars(this YamlNode node) =>
        node is YamlSequenceNode sequence ? sequence.Children.Select(c => c.ToString()).ToList() : [node.ToString()];
}
