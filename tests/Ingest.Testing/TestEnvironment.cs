namespace Ingest.Testing;

/// <summary>Addresses of the real servers that <c>./test.sh</c> starts (overridable by the same variables the services read).</summary>
public static class TestEnvironment
{
    public static string PostgresConnectionString =>
        Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
        ?? "Host=127.0.0.1;Port=55432;Username=ingest;Password=ingest;Database=ingest";

    public static string RedisConnectionString =>
        Environment.GetEnvironmentVariable("ConnectionStrings__Redis") ?? "127.0.0.1:56379";

    /// <summary>A short unique suffix for databases, topics and key prefixes so tests never share state.</summary>
    public static string UniqueName(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 13)];
}
