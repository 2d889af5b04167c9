using Ingest.Core.Touches;
using Ingest.Storage.Touches;
using Npgsql;

namespace Ingest.Storage.Leads;

/// <summary>
/// One upsert for every lead of a batch: the count of its new touches is added, its first touch moves only to an
/// earlier one and its latest only to a later one (ties broken by event id, so the outcome never depends on the order
/// batches arrive in); its lead-creation touch (<see cref="LeadCreation"/>) is set by its first conversion and, like
/// the first touch, only moves earlier.
/// </summary>
internal static class LeadUpsert
{
    private const string Earlier =
        "(l.first_occurred_at is null or (excluded.first_occurred_at, excluded.first_event_id) < (l.first_occurred_at, l.first_event_id))";

    private const string Later =
        "(l.latest_occurred_at is null or (excluded.latest_occurred_at, excluded.latest_event_id) > (l.latest_occurred_at, l.latest_event_id))";

    private const string EarlierCreated =
        "(excluded.created_event_id is not null and (l.created_occurred_at is null or (excluded.created_occurred_at, excluded.created_event_id) < (l.created_occurred_at, l.created_event_id)))";

    /// <summary>Upserts the leads of <paramref name="fresh"/>; a lead found merged means resolution was stale (<see cref="StaleResolutionException"/>).</summary>
    public static async Task UpsertAsync(NpgsqlConnection connection, NpgsqlTransaction tx, List<ResolvedTouch> fresh, Func<Guid, Guid> leadOf,
        CancellationToken cancellationToken)
    {
        var deltas = new Dictionary<Guid, LeadDelta>();
        foreach (var touch in fresh)
        {
            var lead = leadOf(touch.LeadId);
            if (deltas.TryGetValue(lead, out var delta))
            {
                delta.Add(touch);
            }
            else
            {
                deltas[lead] = new LeadDelta(touch);
            }
        }

        var n = deltas.Count;
        var ids = new Guid[n];
        var counts = new int[n];
        var firstIds = new string[n];
        var firstAt = new DateTime[n];
        var firstChannels = new string[n];
        var firstGa4 = new string[n];
        var latestIds = new string[n];
        var latestAt = new DateTime[n];
        var latestChannels = new string[n];
        var latestGa4 = new string[n];
        var createdIds = new string?[n];
        var createdAt = new DateTime?[n];
        var createdChannels = new string?[n];
        var createdGa4 = new string?[n];
        var firstDetails = new string?[n];
        var firstMethods = new string?[n];
        var latestDetails = new string?[n];
        var latestMethods = new string?[n];
        var createdDetails = new string?[n];
        var createdMethods = new string?[n];
        var i = 0;
        foreach (var (lead, delta) in deltas.OrderBy(static d => d.Key))
        {
            ids[i] = lead;
            counts[i] = delta.Count;
            (firstIds[i], firstAt[i], firstChannels[i], firstGa4[i]) = Columns(delta.First);
            (firstDetails[i], firstMethods[i]) = Details(delta.First);
            (latestIds[i], latestAt[i], latestChannels[i], latestGa4[i]) = Columns(delta.Latest);
            (latestDetails[i], latestMethods[i]) = Details(delta.Latest);
            if (delta.Created is { } created)
            {
                (createdIds[i], createdAt[i], createdChannels[i], createdGa4[i]) = Columns(created);
                (createdDetails[i], createdMethods[i]) = Details(created);
            }

            i++;
        }

        var updated = new HashSet<Guid>(n);
        await using (var upsert = new NpgsqlCommand($"""
            insert into leads as l (lead_id, touch_count, first_event_id, first_occurred_at, first_channel, first_ga4_channel,
                                    latest_event_id, latest_occurred_at, latest_channel, latest_ga4_channel,
                                    created_event_id, created_occurred_at, created_channel, created_ga4_channel,
                                    first_source_detail, first_method, latest_source_detail, latest_method, created_source_detail, created_method)
            select * from unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::text[], $10::text[],
                                 $11::text[], $12::timestamptz[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[])
            on conflict (lead_id) do update set
                touch_count = l.touch_count + excluded.touch_count,
                updated_at = now(),
                first_event_id     = case when {Earlier} then excluded.first_event_id else l.first_event_id end,
                first_channel      = case when {Earlier} then excluded.first_channel else l.first_channel end,
                first_ga4_channel  = case when {Earlier} then excluded.first_ga4_channel else l.first_ga4_channel end,
                first_source_detail = case when {Earlier} then excluded.first_source_detail else l.first_source_detail end,
                first_method       = case when {Earlier} then excluded.first_method else l.first_method end,
                first_occurred_at  = case when {Earlier} then excluded.first_occurred_at else l.first_occurred_at end,
                latest_event_id    = case when {Later} then excluded.latest_event_id else l.latest_event_id end,
                latest_channel     = case when {Later} then excluded.latest_channel else l.latest_channel end,
                latest_ga4_channel = case when {Later} then excluded.latest_ga4_channel else l.latest_ga4_channel end,
                latest_source_detail = case when {Later} then excluded.latest_source_detail else l.latest_source_detail end,
                latest_method      = case when {Later} then excluded.latest_method else l.latest_method end,
                latest_occurred_at = case when {Later} then excluded.latest_occurred_at else l.latest_occurred_at end,
                created_event_id    = case when {EarlierCreated} then excluded.created_event_id else l.created_event_id end,
                created_channel     = case when {EarlierCreated} then excluded.created_channel else l.created_channel end,
                created_ga4_channel = case when {EarlierCreated} then excluded.created_ga4_channel else l.created_ga4_channel end,
                created_source_detail = case when {EarlierCreated} then excluded.created_source_detail else l.created_source_detail end,
                created_method      = case when {EarlierCreated} then excluded.created_method else l.created_method end,
                created_occurred_at = case when {EarlierCreated} then excluded.created_occurred_at else l.created_occurred_at end
            where l.merged_into is null
            returning l.lead_id
            """, connection, tx))
        {
            foreach (var array in new object[]
                     {
                         ids, counts, firstIds, firstAt, firstChannels, firstGa4, latestIds, latestAt, latestChannels, latestGa4,
                         createdIds, createdAt, createdChannels, createdGa4,
                         firstDetails, firstMethods, latestDetails, latestMethods, createdDetails, createdMethods,
                     })
            {
                upsert.Parameters.Add(new NpgsqlParameter { Value = array });
            }

            await using var reader = await upsert.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                updated.Add(reader.GetGuid(0));
            }
        }

        if (updated.Count < n)
        {
            throw new StaleResolutionException(await LeadMerger.SurvivorsOfAsync(connection, tx, ids.Where(id => !updated.Contains(id)).ToArray(), cancellationToken));
        }

        static (string, DateTime, string, string) Columns(ResolvedTouch t) =>
            (t.Record.EventId, t.Record.OccurredAt.UtcDateTime, t.Record.Attribution.Channel, t.Record.Attribution.Ga4Channel);

        static (string?, string?) Details(ResolvedTouch t) => (t.Record.Attribution.SourceDetail, TouchRows.MethodOf(t.Record));
    }

    /// <summary>The batch's contribution to one lead: how many new touches, the earliest, the latest and the earliest conversion.</summary>
    private sealed class LeadDelta(ResolvedTouch touch)
    {
        public int Count { get; private set; } = 1;
        public ResolvedTouch First { get; private set; } = touch;
        public ResolvedTouch Latest { get; private set; } = touch;
        public ResolvedTouch? Created { get; private set; } = LeadCreation.CreatesLead(touch.Record) ? touch : null;

        public void Add(ResolvedTouch touch)
        {
            Count++;
            var candidate = (touch.Record.OccurredAt, touch.Record.EventId);
            if (TouchOrder.Before(candidate, (First.Record.OccurredAt, First.Record.EventId)))
            {
                First = touch;
            }

            if (TouchOrder.Before((Latest.Record.OccurredAt, Latest.Record.EventId), candidate))
            {
                Latest = touch;
            }

            if (LeadCreation.CreatesLead(touch.Record) && (Created is null || TouchOrder.Before(candidate, (Created.Record.OccurredAt, Created.Record.EventId))))
            {
                Created = touch;
            }
        }
    }
}
