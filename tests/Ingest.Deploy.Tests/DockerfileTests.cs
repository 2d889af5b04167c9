using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Ingest.Deploy.Tests;

/// <summary>
/// deploy/Dockerfile cannot be built here (no container engine), so it is read: stages, non-root user, health check,
/// and a restore layer that holds every file `dotnet restore` needs, which a missing COPY would break only in CI.
/// </summary>
public sealed class DockerfileTests
{
    private static readonly string[] Services = ["Ingest.Collector", "Ingest.Worker"];

    private readonly List<Instruction> _instructions = Parse(RepositoryFiles.ReadText("deploy/Dockerfile"));

    [Fact]
    public void Dockerfile_Stages_BuildOnTheSdkAndRunOnTheAspNetRuntime()
    {
        var stages = _instructions.Where(i => i.Keyword == "FROM").Select(i => i.Arguments).ToList();
        Assert.True(stages.Count >= 2, "the Dockerfile must be multi-stage");
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0 AS ", stages[0], StringComparison.Ordinal);
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0 AS ", stages[^1], StringComparison.Ordinal);
        Assert.Contains(Runtime(), i => i.Keyword == "COPY" && i.Arguments.StartsWith("--from=build ", StringComparison.Ordinal));
    }

    [Fact]
    public void Dockerfile_RuntimeStage_RunsAsTheImageNonRootUserWithAHealthCheck()
    {
        var runtime = Runtime();
        var user = Assert.Single(runtime, i => i.Keyword == "USER");
        Assert.Equal("$APP_UID", user.Arguments);
        var healthCheck = Assert.Single(runtime, i => i.Keyword == "HEALTHCHECK");
        Assert.Contains("/health/live", healthCheck.Arguments, StringComparison.Ordinal);
        // The check's port is the one the service listens on: both come from the PORT build argument.
        Assert.Contains("${HTTP_PORT}", healthCheck.Arguments, StringComparison.Ordinal);
        var env = Assert.Single(runtime, i => i.Keyword == "ENV").Arguments;
        Assert.Contains("HTTP_PORT=${PORT}", env, StringComparison.Ordinal);
        Assert.Contains("Urls=http://+:${PORT}", env, StringComparison.Ordinal);
        Assert.Equal("${PORT}", Assert.Single(runtime, i => i.Keyword == "EXPOSE").Arguments);
        // Everything that needs root (installing curl) happens before USER.
        Assert.DoesNotContain(runtime.SkipWhile(i => i.Keyword != "USER"), i => i.Keyword == "RUN");
    }

    [Fact]
    public void Dockerfile_RestoreLayer_CopiesBuildPolicyAndEveryProjectTheServicesReference()
    {
        var restoreAt = _instructions.FindIndex(i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet restore", StringComparison.Ordinal));
        Assert.True(restoreAt > 0, "no RUN dotnet restore");
        var copiedBefore = _instructions.Take(restoreAt).Where(i => i.Keyword == "COPY").SelectMany(CopySources).ToHashSet();

        Assert.DoesNotContain("src/", copiedBefore);
        var needed = new[] { "global.json", "Directory.Build.props", "Directory.Packages.props", "src/Directory.Build.props" }
            .Concat(Services.SelectMany(s => ProjectClosure($"src/{s}/{s}.csproj")));
        Assert.All(needed, file => Assert.Contains(file, copiedBefore));
    }

    [Fact]
    public void Dockerfile_BuildStage_CopiesFilesTheProjectsEmbedFromOutsideSrc()
    {
        var publishAt = _instructions.FindIndex(i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet publish", StringComparison.Ordinal));
        var copied = _instructions.Take(publishAt).Where(i => i.Keyword == "COPY").SelectMany(CopySources).ToList();
        var outside = Services.SelectMany(s => ProjectClosure($"src/{s}/{s}.csproj"))
            .SelectMany(project => XDocument.Load(RepositoryFiles.PathOf(project)).Descendants()
                .Where(e => e.Name.LocalName is "EmbeddedResource" or "Content" or "None")
                .Select(e => (string?)e.Attribute("Include"))
                .OfType<string>()
                .Select(include => Relative(Path.Combine(Path.GetDirectoryName(RepositoryFiles.PathOf(project))!, include))))
            .Where(file => !file.StartsWith("src/", StringComparison.Ordinal))
            .Distinct()
            .ToList();
        Assert.NotEmpty(outside);
        Assert.All(outside, file => Assert.Contains(copied, source => file == source || file.StartsWith(source, StringComparison.Ordinal) && source.EndsWith('/')));
    }

    [Fact]
    public void DockerIgnore_KeepsBuildOutputAndLocalDataOut_AndEveryCopiedFileIn()
    {
        var patterns = RepositoryFiles.ReadText(".dockerignore").Split('\n')
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        foreach (var excluded in new[] { "src/Ingest.Core/bin/Release/x.dll", "src/Ingest.Core/obj/project.assets.json", ".git/HEAD", ".data/postgres/PG_VERSION", "tests/Ingest.Deploy.Tests/ComposeFileTests.cs" })
        {
            Assert.True(IsIgnored(patterns, excluded), $".dockerignore lets {excluded} into the build context");
        }

        foreach (var source in _instructions.Where(i => i.Keyword == "COPY" && !i.Arguments.StartsWith("--from", StringComparison.Ordinal)).SelectMany(CopySources))
        {
            var probe = source.EndsWith('/') ? source + "Ingest.Core/Ingest.Core.csproj" : source;
            Assert.False(IsIgnored(patterns, probe), $".dockerignore excludes {source}, which the Dockerfile copies");
        }
    }

    private List<Instruction> Runtime() => _instructions.Skip(_instructions.FindLastIndex(i => i.Keyword == "FROM")).ToList();

    // Sources of a COPY (all arguments but the destination); flags such as --from=… are not sources.
    private static IEnumerable<string> CopySources(Instruction copy)
    {
        var words = copy.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
        return words.Take(words.Count - 1);
    }

    // The project and every project it references, transitively, as repository-relative paths.
    private static IEnumerable<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var current))
        {
            if (!seen.Add(current))
            {
                continue;
            }

            var folder = Path.GetDirectoryName(RepositoryFiles.PathOf(current))!;
            foreach (var reference in XDocument.Load(RepositoryFiles.PathOf(current)).Descendants("ProjectReference"))
            {
                pending.Push(Relative(Path.Combine(folder, (string)reference.Attribute("Include")!)));
            }
        }

        return seen;
    }

    private static string Relative(string path) => Path.GetRelativePath(RepositoryFiles.Root, Path.GetFullPath(path)).Replace('\\', '/');

    // .dockerignore semantics (Go filepath.Match plus '**'): the last matching line wins, '!' re-includes, and a
    // pattern that matches a folder excludes everything in it.
    private static bool IsIgnored(IEnumerable<string> patterns, string path)
    {
        var ignored = false;
        foreach (var line in patterns)
        {
            var include = line.StartsWith('!');
            var pattern = (include ? line[1..] : line).Trim('/');
            var regex = new Regex("^" + Regex.Escape(pattern).Replace(@"\*\*/", "(.*/)?", StringComparison.Ordinal)
                .Replace(@"\*\*", ".*", StringComparison.Ordinal).Replace(@"\*", "[^/]*", StringComparison.Ordinal)
                .Replace(@"\?", "[^/]", StringComparison.Ordinal) + "(/.*)?$");
            if (regex.IsMatch(path))
            {
                ignored = !include;
            }
        }

        return ignored;
    }

    private static List<Instruction> Parse(string dockerfile)
    {
        var joined = Regex.Replace(dockerfile, @"\\\r?\n", " ");
        return joined.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(' ', 2))
            .Select(p => new Instruction(p[0].ToUpperInvariant(), Regex.Replace(p.ElementAtOrDefault(1) ?? "", @"\s+", " ").Trim()))
            .ToList();
    }

    private sealed record Instruction(string Keyword, string Arguments);
}
