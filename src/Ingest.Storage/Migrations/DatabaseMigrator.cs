using System.Reflection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ingest.Storage.Migrations;

/// <summary>
/// Applies the embedded, versioned SQL files (<c>NNNN_name.sql</c>) in order, each in its own transaction, under a
/// Postgres advisory lock so several processes starting at once apply each file exactly once.
/// </summary>
public sealed partial class DatabaseMigrator(NpgsqlDataSource dataSource, ILogger<DatabaseMigrator> logger)
{
    // Arbitrary constant shared by every Ingest process: "INGEST" in ASCII.
    private const long AdvisoryLockKey = 0x494E47455354;

    /// <summary>The migrations shipped in this build, ordered by version.</summary>
    public static IReadOnlyList<(int Version, string Name, string Sql)> Embedded { get; } = LoadEmbedded();

    /// <summary>Applies pending migrations; returns the versions applied by this call.</summary>
    public async Task<IReadOnlyList<int>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("select pg_advisory_lock($1)", connection))
        {
            lockCommand.Parameters.AddWithValue(AdvisoryLockKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            await using (var create = new NpgsqlCommand(
                "create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())",
                connection))
            {
                await create.ExecuteNonQueryAsync(cancellationToken);
            }

            var applied = new HashSet<int>();
            await using (var select = new NpgsqlCommand("select version from schema_migrations", connection))
            await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied.Add(reader.GetInt32(0));
                }
            }

            var done = new List<int>();
            foreach (var (version, name, sql) in Embedded)
            {
                if (applied.Contains(version))
                {
                    continue;
                }

                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                // No command timeout: a migration that backfills a column (0008) rewrites every touch, minutes on a store
                // of millions, and a timeout would only roll it back to run again at the next start.
                await using (var apply = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 })
                {
                    await apply.ExecuteNonQueryAsync(cancellationToken);
                }

                await using (var record = new NpgsqlCommand("insert into schema_migrations (version, name) values ($1, $2)", connection, transaction))
                {
                    record.Parameters.AddWithValue(version);
                    record.Parameters.AddWithValue(name);
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                LogApplied(logger, version, name);
                done.Add(version);
            }

            return done;
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("select pg_advisory_unlock($1)", connection);
            unlock.Parameters.AddWithValue(AdvisoryLockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private static List<(int, string, string)> LoadEmbedded()
    {
        var assembly = typeof(DatabaseMigrator).Assembly;
        var list = new List<(int, string, string)>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(static n => n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            // Resource names look like Ingest.Storage.Migrations.0001_initial.sql
            var file = resource["Ingest.Storage.Migrations.".Length..^".sql".Length];
            var underscore = file.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0 || !int.TryParse(file.AsSpan(0, underscore), out var version))
            {
                throw new InvalidOperationException($"Migration '{resource}' must be named NNNN_name.sql");
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            list.Add((version, file[(underscore + 1)..], reader.ReadToEnd()));
        }

        list.Sort(static (a, b) => a.Item1.CompareTo(b.Item1));
        for (var i = 1; i < list.Count; i++)
        {
            if (list[i].Item1 == list[i - 1].Item1)
            {
                throw new InvalidOperationException($"Two migrations share version {list[i].Item1}");
            }
        }

        return list;
    }

    [LoggerMessage(EventId = 4001, EventName = "MigrationApplied", Level = LogLevel.Information, Message = "Applied migration {Version} ({Name})")]
    private static partial void LogApplied(ILogger logger, int version, string name);
}
