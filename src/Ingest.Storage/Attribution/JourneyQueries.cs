using System.Text;
using Dapper;
using Ingest.Core.Attribution;
using Ingest.Core.Outcomes;
using Ingest.Storage.Leads;
using Npgsql;

namespace Ingest.Storage.Attribution;

/// <summary>A stored touch as attribution reads it: the journey fields and the values a report groups by.</summary>
public sealed record JourneyTouchRow(
    string EventId, string Kind, DateTimeOffset OccurredAt, string Channel, string Ga4Channel, string? Source, string? Medium, string? Campaign,
    string? SourceDetail = null, string? Method = null)
{
    /// <summary>The touch as the models see it, its channel in the GA4 taxonomy when <paramref name="ga4"/>.</summary>
    public JourneyTouch ToJourneyTouch(bool ga4) => new(EventId, OccurredAt, ga4 ? Ga4Channel : Channel, Kind);
}

/// <summary>A won deal of a lead, in its latest state: its amount and currency, and how many leads share it.</summary>
public sealed record JourneyDeal(string DealId, decimal Amount, string Currency, int Leads);

/// <summary>
/// A lead converted at <see cref="ConvertedAt"/>, with its lead-creation touch (null for a lead known from outcomes
/// only), its opportunity and customer milestones (each the first time that stage or a later one was reached), its
/// touches and, when asked for, its won deals.
/// </summary>
public sealed record LeadJourney(
    Guid LeadId, DateTimeOffset ConvertedAt, string? LeadCreatedEventId, DateTimeOffset? OpportunityAt, DateTimeOffset? CustomerAt,
    IReadOnlyList<JourneyTouchRow> Touches, IReadOnlyList<JourneyDeal> WonDeals)
{
    public Journey ToJourney(bool ga4) =>
        new(Touches.Select(t => t.ToJourneyTouch(ga4)).ToList(), ConvertedAt, LeadCreatedEventId, OpportunityAt, CustomerAt);
}

/// <summary>
/// Reads the journeys attribution credits. A conversion at <c>lead</c> is the lead's creation (its lead-creation touch's
/// time); at a lifecycle stage it is the first time the lead reached that stage or any later one on the ladder
/// (<see cref="Stages.AtOrAfter"/>), from the stage outcomes.
/// </summary>
public sealed class JourneyQueries(NpgsqlDataSource dataSource)
{
    private const string TouchColumns = "t.event_id, t.kind, t.occurred_at, t.channel, t.ga4_channel, t.source, t.medium, t.campaign, t.source_detail, t.method";

    // Each lead's opportunity and customer milestones (reaching customer is reaching opportunity), and its conversion
    // time at the stages in @conversion (the asked stage and those after it).
    private const string MilestoneColumns = """
        min(o.occurred_at) filter (where o.stage = any(@conversion)) as converted_at,
        min(o.occurred_at) filter (where o.stage in ('opportunity', 'customer')) as opportunity_at,
        min(o.occurred_at) filter (where o.stage = 'customer') as customer_at
        """;

    /// <summary>
    /// The lead's journey at <paramref name="conversion"/> (a merged id reads its survivor's); null when there is no such
    /// lead or it has not converted there yet (a visitor has no lead creation).
    /// </summary>
    public async Task<LeadJourney?> LeadAsync(Guid leadId, string conversion, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var lead = await connection.QuerySingleOrDefaultAsync<LeadRow>(new CommandDefinition($"""
            select l.lead_id, l.created_event_id, l.created_occurred_at, {MilestoneColumns}
            from leads l left join outcomes o on o.lead_id = l.lead_id and o.type = 'stage'
            where l.lead_id = (select coalesce(merged_into, lead_id) from leads where lead_id = @leadId)
            group by l.lead_id, l.created_event_id, l.created_occurred_at
            """, new { leadId, conversion = Stages.AtOrAfter(conversion).ToArray() }, cancellationToken: cancellationToken));
        var convertedAt = conversion == Stages.Lead ? lead?.created_occurred_at : lead?.converted_at;
        if (lead is null || convertedAt is not { } at)
        {
            return null;
        }

        var touches = await connection.QueryAsync<TouchRow>(new CommandDefinition(
            $"select {TouchColumns} from touches t where t.lead_id = @id order by t.occurred_at, t.event_id",
            new { id = lead.lead_id }, cancellationToken: cancellationToken));
        return new LeadJourney(lead.lead_id, Utc(at), lead.created_event_id, Utc(lead.opportunity_at), Utc(lead.customer_at),
            touches.Select(static t => t.ToRow()).ToList(), []);
    }

    /// <summary>
    /// The leads that converted at <paramref name="conversion"/> in [from, to), each with its touches from
    /// <paramref name="lookbackDays"/> before the conversion up to it and, with <paramref name="withDeals"/>, its won
    /// deals (one statement, streamed in lead order). A conversion with no touch in that span comes with none. Of
    /// <c>source</c>, <c>medium</c>, <c>campaign</c>, <c>source_detail</c> and <c>method</c> only
    /// <paramref name="groupColumn"/> is read (the others come as null), which keeps a report over millions of touches to
    /// the columns it uses.
    /// </summary>
    public async IAsyncEnumerable<LeadJourney> ConvertedAsync(string conversion, DateTimeOffset from, DateTimeOffset to, int lookbackDays, bool withDeals,
        string? groupColumn,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var sql = new StringBuilder("with ");
        sql.Append(conversion == Stages.Lead
            ? $"""
              c as (
                  select l.lead_id, l.created_event_id, l.created_occurred_at as converted_at, m.opportunity_at, m.customer_at
                  from leads l left join lateral (
                      select {MilestoneColumns} from outcomes o where o.lead_id = l.lead_id and o.type = 'stage') m on true
                  where l.merged_into is null and l.created_event_id is not null and l.created_occurred_at >= @from and l.created_occurred_at < @to)
              """
            : $"""
              m as (select o.lead_id, {MilestoneColumns} from outcomes o where o.type = 'stage' group by o.lead_id),
              c as (
                  select l.lead_id, l.created_event_id, m.converted_at, m.opportunity_at, m.customer_at
                  from m join leads l on l.lead_id = m.lead_id
                  where l.merged_into is null and m.converted_at >= @from and m.converted_at < @to)
              """);
        // Won deals in their latest state, listed under each of their leads among the conversions.
        sql.Append(withDeals
            ? $"""
              ,
              won as ({LeadQueries.DealsSql} where d.status = 'won'),
              deals as (
                  select x.lead_id, array_agg(w.deal_id order by w.deal_id) as deal_ids, array_agg(w.amount order by w.deal_id) as amounts,
                         array_agg(w.currency order by w.deal_id) as currencies, array_agg(greatest(cardinality(w.lead_ids), 1) order by w.deal_id) as lead_counts
                  from won w cross join lateral unnest(case when cardinality(w.lead_ids) > 0 then w.lead_ids else array[w.primary_lead_id] end) x(lead_id)
                  where x.lead_id in (select lead_id from c)
                  group by x.lead_id)
              """
            : """
              ,
              deals as (select null::uuid as lead_id, null::text[] as deal_ids, null::numeric[] as amounts, null::text[] as currencies, null::int[] as lead_counts where false)
              """);
        sql.Append($"""

            select c.lead_id, c.created_event_id, c.converted_at, c.opportunity_at, c.customer_at, d.deal_ids, d.amounts, d.currencies, d.lead_counts,
                   t.event_id, t.kind, t.occurred_at, t.channel, t.ga4_channel, {Read("source", groupColumn)}, {Read("medium", groupColumn)}, {Read("campaign", groupColumn)},
                   {Read("source_detail", groupColumn)}, {Read("method", groupColumn)}
            from c
            left join deals d on d.lead_id = c.lead_id
            left join touches t on t.lead_id = c.lead_id
                and t.occurred_at <= c.converted_at and t.occurred_at >= c.converted_at - make_interval(days => @lookback)
            order by c.lead_id, t.occurred_at, t.event_id
            """);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One statement sorts every eligible touch of the window (1.5 M rows for 100,000 conversions): give its sort the
        // memory to stay off disk, and spare it Postgres' JIT, which spent 1.2 s compiling it (EXPLAIN ANALYZE on the
        // benchmark's store, load-tests/RESULTS.md), for this transaction only.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var memory = new NpgsqlCommand("set local work_mem = '128MB'; set local jit = off", connection, transaction))
        {
            await memory.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var command = new NpgsqlCommand(sql.ToString(), connection, transaction);
        command.Parameters.AddWithValue("from", from.UtcDateTime);
        command.Parameters.AddWithValue("to", to.UtcDateTime);
        command.Parameters.AddWithValue("lookback", lookbackDays);
        command.Parameters.AddWithValue("conversion", Stages.AtOrAfter(conversion).ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        LeadJourney? current = null;
        var touches = new List<JourneyTouchRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var lead = reader.GetGuid(0);
            if (current?.LeadId != lead)
            {
                if (current is not null)
                {
                    yield return current;
                }

                touches = [];
                current = new LeadJourney(lead, reader.GetFieldValue<DateTimeOffset>(2), reader.IsDBNull(1) ? null : reader.GetString(1),
                    reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3), reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4),
                    touches, DealsOf(reader));
            }

            if (!reader.IsDBNull(9))
            {
                touches.Add(new JourneyTouchRow(reader.GetString(9), reader.GetString(10), reader.GetFieldValue<DateTimeOffset>(11), reader.GetString(12),
                    reader.GetString(13), reader.IsDBNull(14) ? null : reader.GetString(14), reader.IsDBNull(15) ? null : reader.GetString(15),
                    reader.IsDBNull(16) ? null : reader.GetString(16), reader.IsDBNull(17) ? null : reader.GetString(17),
                    reader.IsDBNull(18) ? null : reader.GetString(18)));
            }
        }

        if (current is not null)
        {
            yield return current;
        }
    }

    private static List<JourneyDeal> DealsOf(NpgsqlDataReader reader)
    {
        if (reader.IsDBNull(5))
        {
            return [];
        }

        var (ids, amounts, currencies, leads) = (reader.GetFieldValue<string[]>(5), reader.GetFieldValue<decimal[]>(6), reader.GetFieldValue<string[]>(7),
            reader.GetFieldValue<int[]>(8));
        return [.. ids.Select((id, i) => new JourneyDeal(id, amounts[i], currencies[i], leads[i]))];
    }

    private static DateTimeOffset Utc(DateTime at) => new(DateTime.SpecifyKind(at, DateTimeKind.Utc));

    private static DateTimeOffset? Utc(DateTime? at) => at is { } value ? Utc(value) : null;

    private static string Read(string column, string? groupColumn) => column == groupColumn ? "t." + column : "null::text";

    private sealed record LeadRow(Guid lead_id, string? created_event_id, DateTime? created_occurred_at, DateTime? converted_at, DateTime? opportunity_at, DateTime? customer_at);

    private sealed record TouchRow(
        string event_id, string kind, DateTime occurred_at, string channel, string ga4_channel, string? source, string? medium, string? campaign,
        string? source_detail, string? method)
    {
        public JourneyTouchRow ToRow() =>
            new(event_id, kind, new DateTimeOffset(occurred_at, TimeSpan.Zero), channel, ga4_channel, source, medium, campaign, source_detail, method);
    }
}
