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
/// A lead converted at <see cref="ConvertedAt"/>, as the attribution report reads it: its milestones, its won deals, and
/// its eligible touches in time order with, for each, the value the report groups by (<c>Groups[i]</c> is
/// <c>Touches[i]</c>'s). Valid during the call <see cref="JourneyQueries.ForEachConvertedAsync"/> hands it to: the
/// lists are the reader's, reused for the next lead.
/// </summary>
public sealed record ConvertedLead(
    Guid LeadId, DateTimeOffset ConvertedAt, DateTimeOffset? OpportunityAt, DateTimeOffset? CustomerAt, IReadOnlyList<JourneyDeal> WonDeals,
    IReadOnlyList<JourneyTouch> Touches, IReadOnlyList<string?> Groups)
{
    public Journey ToJourney() => new(Touches, ConvertedAt, null, OpportunityAt, CustomerAt);
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
    /// Hands <paramref name="each"/> the leads that converted at <paramref name="conversion"/> in [from, to), in lead order, each with its touches from
    /// <paramref name="lookbackDays"/> before the conversion up to it (in time order, ties by event id; none of a kind in
    /// <paramref name="excludedKinds"/>) and, with <paramref name="withDeals"/>, its won deals. A conversion with no touch
    /// in that span comes with none. Each touch carries its channel from <paramref name="channelColumn"/>
    /// (<c>channel</c> or <c>ga4_channel</c>), whether it is the lead-creation touch, and its value of
    /// <paramref name="groupColumn"/>, the column the report groups by; nothing else is read, which keeps a report over
    /// millions of touches to the bytes it uses.
    /// </summary>
    /// <remarks>
    /// Two statements in one repeatable-read snapshot: the conversions (100,000 rows for the benchmark's store), held in
    /// memory, then their touches, streamed. The touches' statement is an inner join, so Postgres hashes the conversions
    /// and scans the touches once in parallel, and its sort carries only the columns read (load-tests/RESULTS.md: 1.0 s
    /// before the first row instead of 2.3 s with the outer join, which hashed the 2,000,000 touches).
    /// </remarks>
    public async Task ForEachConvertedAsync(string conversion, DateTimeOffset from, DateTimeOffset to, int lookbackDays, bool withDeals,
        string channelColumn, string groupColumn, IReadOnlyCollection<string> excludedKinds, Action<ConvertedLead> each, CancellationToken cancellationToken)
    {
        if (channelColumn is not ("channel" or "ga4_channel"))
        {
            throw new ArgumentOutOfRangeException(nameof(channelColumn), channelColumn, "channel or ga4_channel");
        }

        if (!GroupColumns.Contains(groupColumn))
        {
            throw new ArgumentOutOfRangeException(nameof(groupColumn), groupColumn, string.Join(", ", GroupColumns));
        }

        var withMilestones = $"""
            m as (select o.lead_id, {MilestoneColumns} from outcomes o where o.type = 'stage' group by o.lead_id),
            """;
        var conversions = conversion == Stages.Lead
            ? """
              c as (
                  select l.lead_id, l.created_event_id, l.created_occurred_at as converted_at, m.opportunity_at, m.customer_at
                  from leads l left join m on m.lead_id = l.lead_id
                  where l.merged_into is null and l.created_event_id is not null and l.created_occurred_at >= @from and l.created_occurred_at < @to)
              """
            : """
              c as (
                  select l.lead_id, l.created_event_id, m.converted_at, m.opportunity_at, m.customer_at
                  from m join leads l on l.lead_id = m.lead_id
                  where l.merged_into is null and m.converted_at >= @from and m.converted_at < @to)
              """;
        // Won deals in their latest state, listed under each of their leads among the conversions.
        var deals = withDeals
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
              """;
        var group = groupColumn == channelColumn ? "null::text" : "t." + groupColumn;

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // The touches' sort (1.5 M rows for 100,000 conversions) gets the memory to stay off disk and is spared Postgres'
        // JIT, which spent 1.2 s compiling it (load-tests/RESULTS.md), for this transaction only.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using (var memory = new NpgsqlCommand("set local work_mem = '128MB'; set local jit = off", connection, transaction))
        {
            await memory.ExecuteNonQueryAsync(cancellationToken);
        }

        // The conversions alone (no touch) are small enough to hold; the touches stream into two lists reused from lead to
        // lead, so a report over millions of touches allocates next to nothing per touch beyond its channel's string.
        var conversionsRead = new List<Conversion>();
        await using (var command = Command($"""
            with {withMilestones}
            {conversions}{deals}
            select c.lead_id, c.converted_at, c.opportunity_at, c.customer_at, d.deal_ids, d.amounts, d.currencies, d.lead_counts
            from c left join deals d on d.lead_id = c.lead_id
            order by c.lead_id
            """))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                conversionsRead.Add(new Conversion(reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1),
                    reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2), reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
                    DealsOf(reader, 4)));
            }
        }

        // The same conversions: at lead, Postgres removes the unused left join to the milestones (unique per lead), so this
        // statement reads no outcome.
        await using var touches = Command($"""
            with {withMilestones}
            {conversions}
            select t.lead_id, t.occurred_at, coalesce(t.event_id = c.created_event_id, false), t.{channelColumn}, {group}, t.event_id
            from c join touches t on t.lead_id = c.lead_id
                and t.occurred_at <= c.converted_at and t.occurred_at >= c.converted_at - make_interval(days => @lookback)
                and t.kind <> all(@excluded)
            order by t.lead_id, t.occurred_at, t.event_id
            """);
        touches.Parameters.AddWithValue("excluded", excludedKinds.ToArray());
        await using var rows = await touches.ExecuteReaderAsync(cancellationToken);
        // Both statements list the leads in Postgres' uuid order, and every touch belongs to one of the conversions: walk
        // them together, handing on each lead once the touches have moved past it.
        var next = 0;
        var separateGroup = groupColumn != channelColumn;
        var journey = new List<JourneyTouch>();
        var groups = new List<string?>();
        while (await rows.ReadAsync(cancellationToken))
        {
            var lead = rows.GetGuid(0);
            while (conversionsRead[next].LeadId != lead)
            {
                Hand(next++);
            }

            var channel = rows.GetString(3);
            journey.Add(new JourneyTouch(string.Empty, rows.GetFieldValue<DateTimeOffset>(1), channel, string.Empty, rows.GetBoolean(2)));
            groups.Add(separateGroup ? rows.IsDBNull(4) ? null : rows.GetString(4) : channel);
        }

        while (next < conversionsRead.Count)
        {
            Hand(next++);
        }

        void Hand(int index)
        {
            var c = conversionsRead[index];
            each(new ConvertedLead(c.LeadId, c.ConvertedAt, c.OpportunityAt, c.CustomerAt, c.WonDeals, journey, groups));
            journey.Clear();
            groups.Clear();
        }

        NpgsqlCommand Command(string sql)
        {
            var command = new NpgsqlCommand(sql, connection, transaction);
            command.Parameters.AddWithValue("from", from.UtcDateTime);
            command.Parameters.AddWithValue("to", to.UtcDateTime);
            command.Parameters.AddWithValue("lookback", lookbackDays);
            command.Parameters.AddWithValue("conversion", Stages.AtOrAfter(conversion).ToArray());
            return command;
        }
    }

    /// <summary>The touch columns a report may group by.</summary>
    public static IReadOnlySet<string> GroupColumns { get; } =
        new HashSet<string>(["channel", "ga4_channel", "source", "medium", "campaign", "source_detail", "method"], StringComparer.Ordinal);

    private static List<JourneyDeal> DealsOf(NpgsqlDataReader reader, int first)
    {
        if (reader.IsDBNull(first))
        {
            return [];
        }

        var (ids, amounts, currencies, leads) = (reader.GetFieldValue<string[]>(first), reader.GetFieldValue<decimal[]>(first + 1),
            reader.GetFieldValue<string[]>(first + 2), reader.GetFieldValue<int[]>(first + 3));
        return [.. ids.Select((id, i) => new JourneyDeal(id, amounts[i], currencies[i], leads[i]))];
    }

    private static DateTimeOffset Utc(DateTime at) => new(DateTime.SpecifyKind(at, DateTimeKind.Utc));

    private static DateTimeOffset? Utc(DateTime? at) => at is { } value ? Utc(value) : null;

    private readonly record struct Conversion(
        Guid LeadId, DateTimeOffset ConvertedAt, DateTimeOffset? OpportunityAt, DateTimeOffset? CustomerAt, IReadOnlyList<JourneyDeal> WonDeals);

    private sealed record LeadRow(Guid lead_id, string? created_event_id, DateTime? created_occurred_at, DateTime? converted_at, DateTime? opportunity_at, DateTime? customer_at);

    private sealed record TouchRow(
        string event_id, string kind, DateTime occurred_at, string channel, string ga4_channel, string? source, string? medium, string? campaign,
        string? source_detail, string? method)
    {
        public JourneyTouchRow ToRow() =>
            new(event_id, kind, new DateTimeOffset(occurred_at, TimeSpan.Zero), channel, ga4_channel, source, medium, campaign, source_detail, method);
    }
}
