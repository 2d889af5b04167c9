using Ingest.Storage.Migrations;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xunit;

namespace Ingest.Testing;

/// <summary>A fresh, migrated database on the real local Postgres, dropped afterwards.</summary>
public sealed class PostgresDatabase : IAsyncLifetime
{
    private NpgsqlDataSource? _dataSource;

    public string Name { get; } = TestEnvironment.UniqueName("ingest_test");

    public string ConnectionString { get; private set; } = "";

    public NpgsqlDataSource DataSource => _dataSource ?? throw new InvalidOperationException("Database not initialized");

    public async Task InitializeAsync()
    {
        await using (var admin = new NpgsqlConnection(TestEnvironment.PostgresConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"create database {Name}", admin);
            await create.ExecuteNonQueryAsync();
        }

        ConnectionString = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { Database = Name }.ConnectionString;
        _dataSource = NpgsqlDataSource.Create(ConnectionString);
        await new DatabaseMigrator(_dataSource, NullLogger<DatabaseMigrator>.Instance).MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }

        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(TestEnvironment.PostgresConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"drop database if exists {Name} with (force)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}
