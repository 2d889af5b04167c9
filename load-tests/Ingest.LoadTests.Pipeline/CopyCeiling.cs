using System.Diagnostics;
using Ingest.Storage.Touches;
using Npgsql;

namespace Ingest.LoadTests.Pipeline;

/// <summary>
/// The ceiling the worker is compared with: binary COPY of the very rows the worker writes (same columns, same jsonb
/// record, through the worker's own row writer) into a scratch table with no indexes or constraints, one connection.
/// </summary>
internal static class CopyCeiling
{
    public static async Task<double> MeasureAsync(NpgsqlDataSource db, IReadOnlyList<BuiltTouch> rows)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using (var create = new NpgsqlCommand("drop table if exists load_copy_scratch; create table load_copy_scratch (like touches including defaults)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        var leadId = Guid.CreateVersion7();
        var clock = Stopwatch.StartNew();
        await using (var import = await TouchRows.BeginImportAsync(connection, "load_copy_scratch", CancellationToken.None))
        {
            foreach (var row in rows)
            {
                await TouchRows.WriteAsync(import, row.Record, leadId, row.Json, CancellationToken.None);
            }

            await import.CompleteAsync();
        }

        var elapsed = clock.Elapsed.TotalSeconds;
        await using (var drop = new NpgsqlCommand("drop table load_copy_scratch", connection))
        {
            await drop.ExecuteNonQueryAsync();
        }

        return rows.Count / elapsed;
    }
}
