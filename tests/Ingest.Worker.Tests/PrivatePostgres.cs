using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Ingest.Storage.Migrations;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Ingest.Worker.Tests;

/// <summary>
/// A Postgres server of the test's own (initdb into a temporary directory, its own port), migrated, that the test can
/// stop and start: stopping the shared test server would break every other test running at the same time.
/// Uses the Debian binaries under /usr/lib/postgresql (as the project's scripts do); as root, runs them as 'postgres'.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _dataDir;
    private readonly int _port;

    private PrivatePostgres(string bin, string dataDir, int port)
    {
        _bin = bin;
        _dataDir = dataDir;
        _port = port;
    }

    public string ConnectionString => $"Host=127.0.0.1;Port={_port};Username=ingest;Database=ingest;Timeout=3;Command Timeout=10";

    public static async Task<PrivatePostgres> StartAsync()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql")
            .Select(v => Path.Combine(v, "bin"))
            .Where(b => File.Exists(Path.Combine(b, "pg_ctl")))
            .OrderBy(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var major) ? major : 0)
            .Last();
        var dataDir = Path.Combine(Path.GetTempPath(), "ingest-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dataDir);
        if (Environment.UserName == "root")
        {
            await RunAsync("chown", "postgres:postgres", dataDir);
        }

        var server = new PrivatePostgres(bin, dataDir, FreePort());
        await server.AsServerUserAsync("initdb", "-D", dataDir, "-U", "ingest", "--auth=trust", "-E", "UTF8");
        await server.StartServerAsync();
        await using (var admin = new NpgsqlConnection(server.ConnectionString.Replace("Database=ingest", "Database=postgres", StringComparison.Ordinal)))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand("create database ingest", admin);
            await create.ExecuteNonQueryAsync();
        }

        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await new DatabaseMigrator(dataSource, NullLogger<DatabaseMigrator>.Instance).MigrateAsync();
        return server;
    }

    /// <summary>Stops the server the way a crash or a killed container does: no checkpoint, clients cut off mid-query.</summary>
    public Task StopImmediatelyAsync() => AsServerUserAsync("pg_ctl", "-D", _dataDir, "-m", "immediate", "-w", "stop");

    /// <summary>Starts it again (crash recovery replays the WAL) and waits until it accepts connections.</summary>
    public Task StartServerAsync() => AsServerUserAsync(
        "pg_ctl", "-D", _dataDir, "-w", "-t", "60", "-l", Path.Combine(_dataDir, "server.log"),
        "-o", $"-p {_port} -c listen_addresses=127.0.0.1 -k {_dataDir}", "start");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopImmediatelyAsync();
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        Directory.Delete(_dataDir, recursive: true);
    }

    private Task AsServerUserAsync(string tool, params string[] args)
    {
        var path = Path.Combine(_bin, tool);
        return Environment.UserName == "root"
            ? RunAsync("runuser", ["-u", "postgres", "--", path, .. args])
            : RunAsync(path, args);
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await error}{await output}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
