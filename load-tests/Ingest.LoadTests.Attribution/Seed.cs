using System.Diagnostics;
using Npgsql;

namespace Ingest.LoadTests.Attribution;

/// <summary>
/// A store for the attribution benchmark, written by SQL in a few statements (the worker's path would take minutes
/// for millions of touches and is measured by the pipeline scenario instead). Lead <c>i</c> of N is created on a day
/// spread over 2026-01-01 … 2026-03-31 by its touch <c>k</c> = M·3/4 (a form); its M touches lie six days apart
/// around it, so three quarters fall before the creation (with 20 touches the first lies 90 days before it, on the
/// edge of the lookback)
/// and the rest after it, where the later stages credit them. Channels, sources and kinds rotate by lead and touch.
/// Touches are inserted in time order, as they arrive in production, so a lead's touches lie scattered over the
/// table, not side by side. Stages: every second lead reaches mql a day after creation, every third sql after 8 days, every tenth opportunity
/// after 12 and every twentieth customer after 20. Idempotent: a store already seeded with the same size is kept.
/// </summary>
internal static class Seed
{
    private const string Marker = "attribution-bench";

    public static async Task RunAsync(NpgsqlDataSource db, int leads, int perLead)
    {
        // The layout version is part of the size: a change to what is seeded reseeds.
        var size = $"{leads}x{perLead}/2";
        await using var connection = await db.OpenConnectionAsync();
        await Exec(connection, "create table if not exists bench_seed (name text primary key, size text not null)");
        await using (var check = new NpgsqlCommand("select size from bench_seed where name = $1", connection))
        {
            check.Parameters.AddWithValue(Marker);
            if (await check.ExecuteScalarAsync() as string == size)
            {
                Log($"store already seeded with {size}; kept");
                return;
            }
        }

        var clock = Stopwatch.StartNew();
        var creation = perLead * 3 / 4;
        await Exec(connection, "truncate outcome_leads, outcomes, touches, lead_identities, lead_merges, leads cascade");
        await using var tx = await connection.BeginTransactionAsync();
        // Touch j of lead i: six days apart around the creation touch, less up to four hours so no two leads line up.
        await Exec(connection, $"""
            create temporary table bench_touches on commit drop as
            select i, j, 'ab-' || lpad(i::text, 7, '0') || '-' || lpad(j::text, 3, '0') as event_id,
                   md5('ab-lead-' || i)::uuid as lead_id,
                   case when j = {creation} then 'form' when j % 5 = 0 then 'call' else 'visit' end as kind,
                   c.created + make_interval(days => (j - {creation}) * 6)
                       - make_interval(mins => case when j = {creation} then 0 else (i * 7 + j * 13) % 240 end) as occurred_at,
                   1 + (i * 7 + j * 3) % 8 as k
            from generate_series(0, {leads - 1}) i
            cross join lateral (select timestamptz '2026-01-01T00:00:00Z' + make_interval(secs => i * (90 * 86400.0 / {leads}))) c(created)
            cross join generate_series(0, {perLead - 1}) j
            """);
        const string Channel = "(array['paid_search','paid_social','email','organic_search','referral','direct','events','display'])[k]";
        const string Ga4 = "(array['Paid Search','Paid Social','Email','Organic Search','Referral','Direct','Unassigned','Display'])[k]";
        await Exec(connection, $"""
            insert into leads (lead_id, touch_count, first_event_id, first_occurred_at, first_channel, first_ga4_channel,
                               latest_event_id, latest_occurred_at, latest_channel, latest_ga4_channel,
                               created_event_id, created_occurred_at, created_channel, created_ga4_channel)
            select lead_id, count(*),
                   min(event_id) filter (where j = 0), min(occurred_at) filter (where j = 0), min({Channel}) filter (where j = 0), min({Ga4}) filter (where j = 0),
                   max(event_id) filter (where j = {perLead - 1}), max(occurred_at) filter (where j = {perLead - 1}),
                   max({Channel}) filter (where j = {perLead - 1}), max({Ga4}) filter (where j = {perLead - 1}),
                   min(event_id) filter (where j = {creation}), min(occurred_at) filter (where j = {creation}),
                   min({Channel}) filter (where j = {creation}), min({Ga4}) filter (where j = {creation})
            from bench_touches group by lead_id
            """);
        await Exec(connection, $"""
            insert into touches (event_id, lead_id, kind, door, occurred_at, received_at, channel, ga4_channel, source, medium, campaign, record)
            select event_id, lead_id, kind, 'api', occurred_at, occurred_at, {Channel}, {Ga4},
                   (array['google','facebook','newsletter','google','news.ycombinator.com',null,'saastr','doubleclick'])[k],
                   (array['cpc','paid_social','email','organic','referral',null,'event','display'])[k],
                   'campaign_' || ((i + j) % 40), jsonb_build_object()
            from bench_touches
            order by occurred_at
            """);
        await Exec(connection, $"""
            insert into outcomes (event_id, lead_id, type, occurred_at, received_at, door, source_system, stage, record)
            select 'ab-stage-' || s.stage || '-' || t.i, t.lead_id, 'stage', t.occurred_at + make_interval(days => s.after),
                   t.occurred_at + make_interval(days => s.after), 'api', 'bench', s.stage, jsonb_build_object()
            from bench_touches t
            cross join (values ('mql', 1, 2), ('sql', 8, 3), ('opportunity', 12, 10), ('customer', 20, 20)) s(stage, after, every)
            where t.j = {creation} and t.i % s.every = 0
            """);
        await using (var mark = new NpgsqlCommand("insert into bench_seed values ($1, $2) on conflict (name) do update set size = excluded.size", connection))
        {
            mark.Parameters.AddWithValue(Marker);
            mark.Parameters.AddWithValue(size);
            await mark.ExecuteNonQueryAsync();
        }

        await tx.CommitAsync();
        await Exec(connection, "analyze leads; analyze touches; analyze outcomes");
        Log($"seeded {leads} leads, {(long)leads * perLead} touches and their stages in {clock.Elapsed.TotalSeconds:F0} s");
    }

    private static async Task Exec(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }

    private static void Log(string line) => Console.Error.WriteLine("[attribution] " + line);
}
