using Ingest.Storage.Migrations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Ingest.Storage;

/// <summary>Registers the one <see cref="NpgsqlDataSource"/> per process and the migrator.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>The configuration name of the Postgres connection string (<c>ConnectionStrings__Postgres</c>).</summary>
    public const string ConnectionStringName = "Postgres";

    public static IServiceCollection AddIngestStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(ConnectionString(configuration)).Build());
        services.AddSingleton<DatabaseMigrator>();
        return services;
    }

    // No built-in fallback: local defaults come from run.sh and appsettings, a deployment must say where its database is.
    private static string ConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString(ConnectionStringName) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"ConnectionStrings:{ConnectionStringName} is not set: give the Postgres connection string (environment variable ConnectionStrings__{ConnectionStringName}).");
}
