using Ingest.Core.Governance;
using Ingest.Core.Touches;
using Npgsql;
using NpgsqlTypes;

namespace Ingest.Storage.Touches;

/// <summary>
/// The row a touch becomes in <c>touches</c>, written with binary COPY. The worker and the load test's COPY ceiling
/// share it, so the ceiling measures exactly the rows the worker writes.
/// </summary>
public static class TouchRows
{
    /// <summary>The columns <see cref="WriteAsync"/> fills, in order.</summary>
    public const string Columns =
        "event_id, lead_id, kind, door, occurred_at, received_at, channel, ga4_channel, source, medium, campaign, term, content, click_id, click_network, landing_page, referrer, referrer_class, violation_count, record, source_detail, method, rules_version";

    /// <summary>Starts a binary COPY of touch rows into <paramref name="table"/>.</summary>
    public static Task<NpgsqlBinaryImporter> BeginImportAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken) =>
        connection.BeginBinaryImportAsync($"copy {table} ({Columns}) from stdin (format binary)", cancellationToken);

    /// <summary>Writes one row: the governed columns the read side filters on, and the whole record as jsonb.</summary>
    public static async ValueTask WriteAsync(NpgsqlBinaryImporter import, TouchRecord record, Guid leadId, byte[] recordJson, CancellationToken cancellationToken)
    {
        var a = record.Attribution;
        await import.StartRowAsync(cancellationToken);
        await import.WriteAsync(record.EventId, NpgsqlDbType.Text, cancellationToken);
        await import.WriteAsync(leadId, NpgsqlDbType.Uuid, cancellationToken);
        await import.WriteAsync(KindText(record.Kind), NpgsqlDbType.Text, cancellationToken);
        await import.WriteAsync(record.Door, NpgsqlDbType.Text, cancellationToken);
        await import.WriteAsync(record.OccurredAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
        await import.WriteAsync(record.ReceivedAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
        await import.WriteAsync(a.Channel, NpgsqlDbType.Text, cancellationToken);
        await import.WriteAsync(a.Ga4Channel, NpgsqlDbType.Text, cancellationToken);
        await WriteNullableAsync(import, a.Source, cancellationToken);
        await WriteNullableAsync(import, a.Medium, cancellationToken);
        await WriteNullableAsync(import, a.Campaign, cancellationToken);
        await WriteNullableAsync(import, a.Term, cancellationToken);
        await WriteNullableAsync(import, a.Content, cancellationToken);
        await WriteNullableAsync(import, a.ClickId, cancellationToken);
        await WriteNullableAsync(import, a.ClickNetwork, cancellationToken);
        await WriteNullableAsync(import, a.LandingPage, cancellationToken);
        await WriteNullableAsync(import, record.Referrer, cancellationToken);
        await WriteNullableAsync(import, a.ReferrerClass, cancellationToken);
        await import.WriteAsync(a.Violations.Count, NpgsqlDbType.Integer, cancellationToken);
        await import.WriteAsync(recordJson, NpgsqlDbType.Jsonb, cancellationToken);
        await WriteNullableAsync(import, a.SourceDetail, cancellationToken);
        await WriteNullableAsync(import, MethodOf(record), cancellationToken);
        await WriteNullableAsync(import, a.RulesVersion, cancellationToken);
    }

    /// <summary>The touch's method; a record from a collector older than the method field gets it from its door and kind, as the collector would.</summary>
    public static string? MethodOf(TouchRecord record) => record.Method ?? TouchMethods.Of(record.Door, KindText(record.Kind));

    /// <summary>The stored spelling of a touch kind.</summary>
    public static string KindText(TouchKind kind) => kind switch
    {
        TouchKind.Form => "form",
        TouchKind.Call => "call",
        TouchKind.Ad => "ad",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private static ValueTask WriteNullableAsync(NpgsqlBinaryImporter import, string? value, CancellationToken cancellationToken) =>
        value is null ? new ValueTask(import.WriteNullAsync(cancellationToken)) : new ValueTask(import.WriteAsync(value, NpgsqlDbType.Text, cancellationToken));
}
