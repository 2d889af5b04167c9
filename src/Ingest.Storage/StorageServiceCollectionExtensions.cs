using Ingest.Storage.Migrations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Ingest.Storage;

/// <summary>Registers the one <see cref="NpgsqlDataSource"/> per process and the migrator.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>Default local connection string (<c>./run.sh</c> Postgres).</summary>
    public const string DefaultConnectionString = "Host=127.0.0.1;Port=55432;Username=ingest;Password=ingest;Database=ingest";

    public static IServiceCollection AddIngestStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString("Postgres") ?? DefaultConnectionString;
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString).Build());
        services.AddSingleton<DatabaseMigrator>();
        return services;
    }
}
