namespace Ingest.IntegrationTests;

public sealed class OpenApiDocumentTests(CollectorHost host) : IClassFixture<CollectorHost>
{
    /// <summary>
    /// openapi.yaml at the repository root must be exactly what the running collector serves. To update it after an
    /// intended API change: <c>INGEST_UPDATE_OPENAPI=1 ./test.sh --filter OpenApi</c>.
    /// </summary>
    [Fact]
    public async Task OpenApiYaml_CheckedInFile_MatchesTheRunningCollector()
    {
        using var client = host.CreateClient();
        var served = (await client.GetStringAsync("/openapi/v1.yaml")).ReplaceLineEndings("\n");
        var path = Path.Combine(RepositoryRoot(), "openapi.yaml");

        if (Environment.GetEnvironmentVariable("INGEST_UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(path, served);
        }

        Assert.True(File.Exists(path), "openapi.yaml is missing; run INGEST_UPDATE_OPENAPI=1 ./test.sh --filter OpenApi");
        var committed = (await File.ReadAllTextAsync(path)).ReplaceLineEndings("\n");
        Assert.True(committed == served,
            "openapi.yaml differs from the document the collector serves. Regenerate it with INGEST_UPDATE_OPENAPI=1 ./test.sh --filter OpenApi and review the diff.");
    }

    [Fact]
    public async Task SwaggerUi_IsServedAtSwagger()
    {
        using var client = host.CreateClient();
        var html = await client.GetStringAsync("/swagger/index.html");
        Assert.Contains("swagger-ui", html, StringComparison.OrdinalIgnoreCase);
    }

    internal static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ingest.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Ingest.sln not found above " + AppContext.BaseDirectory);
    }
}
