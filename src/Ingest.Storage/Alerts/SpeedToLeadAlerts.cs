using Dapper;
using Npgsql;

namespace Ingest.Storage.Alerts;

/// <summary>What an alert tells its receiver: the lead, its lead-creation touch and that touch's source.</summary>
public sealed record SpeedToLeadAlert(
    string EventId, Guid LeadId, DateTimeOffset LeadCreatedAt, int MinutesWithoutResponse, string? Owner, AlertTouch LeadCreatedTouch);

/// <summary>The lead-creation touch as an alert shows it.</summary>
public sealed record AlertTouch(string EventId, string Kind, DateTimeOffset OccurredAt, string Channel, string Ga4Channel, string? Source, string? Medium, string? Campaign);

/// <summary>
/// The <c>speed_to_lead_alerts</c> table: leads created in the look-back window that had no response within the limit
/// are claimed once (primary key), then delivered with durable back-off; a pending alert is locked (skip locked) while
/// one worker delivers it, so two workers never send it twice.
/// </summary>
public sealed class SpeedToLeadAlerts(NpgsqlDataSource dataSource)
{
    /// <summary>Claims an alert for every lead created in [now − lookBack, now − limit] that had no response within the limit; returns how many.</summary>
    public async Task<int> ClaimAsync(DateTimeOffset now, TimeSpan limit, TimeSpan lookBack, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition("""
            insert into speed_to_lead_alerts (lead_id, event_id)
            select l.lead_id, 'speed-to-lead:' || l.lead_id from leads l
            where l.merged_into is null and l.created_event_id is not null
              and l.created_occurred_at <= @due and l.created_occurred_at >= @since
              and not exists (select 1 from outcomes o where o.lead_id = l.lead_id and o.type = 'response'
                              and o.occurred_at <= l.created_occurred_at + @limit)
            order by l.lead_id
            on conflict do nothing
            """, new { due = now - limit, since = now - lookBack, limit }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Delivers the due pending alerts (at most <paramref name="take"/>) one by one through <paramref name="deliver"/>,
    /// each locked while it is sent; a failure schedules the next attempt after <paramref name="backOff"/>(attempts).
    /// </summary>
    public async Task<(int Delivered, int Failed)> DeliverDueAsync(DateTimeOffset now, TimeSpan limit, int maxAttempts, int take, Func<int, TimeSpan> backOff,
        Func<SpeedToLeadAlert, CancellationToken, Task<int>> deliver, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var due = (await connection.QueryAsync<AlertRow>(new CommandDefinition("""
            select a.event_id, a.lead_id, a.attempts, l.created_occurred_at,
                   (select o.owner from outcomes o where o.lead_id = l.lead_id and o.owner is not null order by o.occurred_at desc, o.event_id desc limit 1) as owner,
                   t.event_id as touch_event_id, t.kind, t.occurred_at, t.channel, t.ga4_channel, t.source, t.medium, t.campaign
            from speed_to_lead_alerts a
            join leads l on l.lead_id = a.lead_id
            join touches t on t.event_id = l.created_event_id
            where a.delivered_at is null and a.attempts < @maxAttempts and a.next_attempt_at <= @now
            order by a.next_attempt_at
            limit @take
            for update of a skip locked
            """, new { now, maxAttempts, take }, tx, cancellationToken: cancellationToken))).ToList();

        int delivered = 0, failed = 0;
        foreach (var row in due)
        {
            var alert = new SpeedToLeadAlert(row.event_id, row.lead_id, Utc(row.created_occurred_at), (int)limit.TotalMinutes, row.owner,
                new AlertTouch(row.touch_event_id, row.kind, Utc(row.occurred_at), row.channel, row.ga4_channel, row.source, row.medium, row.campaign));
            int status;
            try
            {
                status = await deliver(alert, cancellationToken);
            }
            catch (HttpRequestException)
            {
                status = 0;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                status = 0; // timed out
            }

            var ok = status is >= 200 and < 300;
            delivered += ok ? 1 : 0;
            failed += ok ? 0 : 1;
            await connection.ExecuteAsync(new CommandDefinition("""
                update speed_to_lead_alerts set attempts = attempts + 1, last_status = @status,
                       delivered_at = case when @ok then @now end, next_attempt_at = @next
                where event_id = @eventId
                """, new { status, ok, now, next = now + backOff(row.attempts + 1), eventId = row.event_id }, tx, cancellationToken: cancellationToken));
        }

        await tx.CommitAsync(cancellationToken);
        return (delivered, failed);
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private sealed record AlertRow(
        string event_id, Guid lead_id, int attempts, DateTime created_occurred_at, string? owner, string touch_event_id, string kind, DateTime occurred_at,
        string channel, string ga4_channel, string? source, string? medium, string? campaign);
}
