using Dapper;
using Ingest.Core.Attribution;
using Npgsql;

namespace Ingest.Storage.Attribution;

/// <summary>A stored touch as attribution reads it: the journey fields and the values a report groups by.</summary>
public sealed record JourneyTouchRow(
    string EventId, string Kind, DateTimeOffset OccurredAt, string Channel, string Ga4Channel, string? Source, string? Medium, string? Campaign)
{
    public JourneyTouch ToJourneyTouch() => new(EventId, OccurredAt, Channel, Kind);
}

/// <summary>A lead converted at <see cref="ConvertedAt"/> (its lead-creation touch's time), with its touches.</summary>
public sealed record LeadJourney(Guid LeadId, DateTimeOffset ConvertedAt, string LeadCreatedEventId, IReadOnlyList<JourneyTouchRow> Touches)
{
    public Journey ToJourney() => new(Touches.Select(static t => t.ToJourneyTouch()).ToList(), ConvertedAt, LeadCreatedEventId);
}

/// <summary>
/// Reads the journeys attribution credits. The conversion is the lead's creation (its lead-creation touch); the later
/// milestones (mql … customer) come with the outcomes of issue 14.
/// </summary>
public sealed class JourneyQueries(NpgsqlDataSource dataSource)
{
    private const string TouchColumns = "t.event_id, t.kind, t.occurred_at, t.channel, t.ga4_channel, t.source, t.medium, t.campaign";

    /// <summary>The lead's journey (a merged id reads its survivor's); null when there is no such lead, or it is a visitor (no conversion yet).</summary>
    public async Task<LeadJourney?> LeadAsync(Guid leadId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var lead = await connection.QuerySingleOrDefaultAsync<LeadRow>(new CommandDefinition("""
            select l.lead_id, l.created_event_id, l.created_occurred_at from leads l
            where l.lead_id = (select coalesce(merged_into, lead_id) from leads where lead_id = @leadId)
            """, new { leadId }, cancellationToken: cancellationToken));
        if (lead is not { created_event_id: { } created, created_occurred_at: { } at })
        {
            return null;
        }

        var touches = await connection.QueryAsync<TouchRow>(new CommandDefinition(
            $"select {TouchColumns} from touches t where t.lead_id = @id order by t.occurred_at, t.event_id",
            new { id = lead.lead_id }, cancellationToken: cancellationToken));
        return new LeadJourney(lead.lead_id, new DateTimeOffset(at, TimeSpan.Zero), created, touches.Select(static t => t.ToRow()).ToList());
    }

    /// <summary>
    /// The leads created in [from, to), each with its touches from <paramref name="lookbackDays"/> before its creation
    /// up to it (one statement, streamed in lead order).
    /// </summary>
    public async IAsyncEnumerable<LeadJourney> CreatedAsync(DateTimeOffset from, DateTimeOffset to, int lookbackDays,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"""
            select l.lead_id, l.created_event_id, l.created_occurred_at, {TouchColumns}
            from leads l
            join touches t on t.lead_id = l.lead_id
                and t.occurred_at <= l.created_occurred_at and t.occurred_at >= l.created_occurred_at - make_interval(days => $3)
            where l.merged_into is null and l.created_event_id is not null and l.created_occurred_at >= $1 and l.created_occurred_at < $2
            order by l.lead_id, t.occurred_at, t.event_id
            """, connection);
        command.Parameters.AddWithValue(from.UtcDateTime);
        command.Parameters.AddWithValue(to.UtcDateTime);
        command.Parameters.AddWithValue(lookbackDays);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        Guid? current = null;
        string created = "";
        DateTimeOffset at = default;
        var touches = new List<JourneyTouchRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var lead = reader.GetGuid(0);
            if (current is { } previous && previous != lead)
            {
                yield return new LeadJourney(previous, at, created, touches);
                touches = [];
            }

            current = lead;
            created = reader.GetString(1);
            at = reader.GetFieldValue<DateTimeOffset>(2);
            touches.Add(new JourneyTouchRow(reader.GetString(3), reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5), reader.GetString(6), reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9), reader.IsDBNull(10) ? null : reader.GetString(10)));
        }

        if (current is { } last)
        {
            yield return new LeadJourney(last, at, created, touches);
        }
    }

    private sealed record LeadRow(Guid lead_id, string? created_event_id, DateTime? created_occurred_at);

    private sealed record TouchRow(string event_id, string kind, DateTime occurred_at, string channel, string ga4_channel, string? source, string? medium, string? campaign)
    {
        public JourneyTouchRow ToRow() => new(event_id, kind, new DateTimeOffset(occurred_at, TimeSpan.Zero), channel, ga4_channel, source, medium, campaign);
    }
}
