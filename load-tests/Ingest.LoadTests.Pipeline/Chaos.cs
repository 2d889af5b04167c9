using System.Diagnostics;
using System.Globalization;
using Ingest.Core.Touches;
using Npgsql;

namespace Ingest.LoadTests.Pipeline;

/// <summary>
/// load-tests/run.sh chaos: touches through collector → Kafka → worker → Postgres while run.sh injects faults (broker
/// down, worker SIGKILLed, Postgres restarted, Redis flushed and restarted, a second worker joining and leaving). The
/// client retries 503s and timeouts with the same event ids. Then it drains and checks what a user relies on: every
/// acknowledged id stored exactly once, every lead's count, first, latest and lead-creation touch agreeing with its
/// rows, and no person split over two surviving leads.
/// </summary>
internal static class Chaos
{
    // Surviving leads whose touch_count, first, latest or lead-creation touch disagree with the rows they own.
    private const string InconsistentLeads = $"""
        select count(*) from leads l where l.merged_into is null and l.touch_count > 0 and (
            l.touch_count <> (select count(*) from touches t where t.lead_id = l.lead_id)
            or l.first_event_id is distinct from (select t.event_id from touches t where t.lead_id = l.lead_id order by t.occurred_at, t.event_id limit 1)
            or l.latest_event_id is distinct from (select t.event_id from touches t where t.lead_id = l.lead_id order by t.occurred_at desc, t.event_id desc limit 1)
            or l.created_event_id is distinct from (select t.event_id from touches t where t.lead_id = l.lead_id
                and {LeadCreation.CreatesLeadSql}
                order by t.occurred_at, t.event_id limit 1))
        """;

    // Identity keys owned by a lead that was merged away (they must move to the survivor), and people of the run whose
    // keys (anonymous id and email, sent together) resolve to more than one surviving lead.
    private const string SplitIdentities = """
        select (select count(*) from lead_identities i join leads l on l.lead_id = i.lead_id where l.merged_into is not null)
             + (select count(*) from (
                    select split_part(i.value, '-anon-', 2) as person
                    from lead_identities i join leads l on l.lead_id = i.lead_id
                    where i.kind = 'anonymous_id' and i.value like $1
                    group by 1 having count(distinct coalesce(l.merged_into, l.lead_id)) > 1) split)
             + (select count(*) from lead_identities a
                    join lead_identities e on e.kind = 'email' and e.value = 'person' || split_part(a.value, '-anon-', 2) || '@' || $2 || '.example.com'
                    join leads la on la.lead_id = a.lead_id join leads le on le.lead_id = e.lead_id
                    where a.kind = 'anonymous_id' and a.value like $1
                      and coalesce(la.merged_into, la.lead_id) <> coalesce(le.merged_into, le.lead_id))
        """;

    public static async Task RunAsync(PipelineOptions options, HttpClient http, StoreProbe probe, NpgsqlDataSource db, string stamp)
    {
        var clock = Stopwatch.StartNew();
        var generator = new TouchGenerator($"lc{stamp}", seed: 99, expected: options.Touches);
        var sender = new CollectorSender(http, options.Concurrency, attempts: 60);
        // A bounded backlog keeps the run's memory and drain time bounded while the worker is down, and the unstored
        // touches well inside what the development broker keeps per partition.
        // Progress is the exact count of the run's rows: an immediate Postgres restart resets the table statistics the
        // other phases read.
        var backlog = new Backlog(() => probe.CountAsync(generator.Run), Math.Min(options.Backlog, 50_000), TimeSpan.FromMilliseconds(500));
        using var retention = new RetentionWatch(options.Kafka, options.Topic, "ingest-worker");
        var stalled = false;
        try
        {
            await sender.SendAsync(generator, options.Touches, 100, pacePerSecond: null, backlog);
        }
        catch (BacklogStalledException ex)
        {
            // Judge what was acknowledged so far: the ids still missing after the drain are the loss.
            stalled = true;
            Log($"the store stopped: {ex.Message}; sending stopped, checking what was acknowledged");
        }

        var acked = sender.Acknowledged;
        Log($"sent {generator.Sent} touches ({generator.Duplicates} deliberate duplicates) in {clock.Elapsed.TotalSeconds:F0}s; "
            + $"{acked.Count} distinct ids acknowledged, {sender.Failed} never acknowledged ({sender.Refusals()}), {sender.Retried} batches retried");

        // Every fault has run (and what it stopped is back) before the drain is judged.
        for (var wait = Stopwatch.StartNew(); wait.Elapsed < TimeSpan.FromMinutes(10) && !FaultsDone(options.FaultLog);)
        {
            await Task.Delay(1000);
        }

        var drained = await DrainAsync(probe, generator.Run, acked.Count, TimeSpan.FromMinutes(15));
        var missingSample = new List<string>();
        var (stored, distinct, missing, _) = await probe.VerifyAsync(generator.Run, acked, missingSample);
        if (missing > 0)
        {
            Log($"{missing} acknowledged ids not stored, e.g. {string.Join(", ", missingSample)}");
        }

        await using var connection = await db.OpenConnectionAsync();
        long inconsistent;
        await using (var query = new NpgsqlCommand(InconsistentLeads, connection) { CommandTimeout = 600 })
        {
            inconsistent = (long)(await query.ExecuteScalarAsync())!;
        }

        await using (var query = new NpgsqlCommand(SplitIdentities, connection) { CommandTimeout = 600 })
        {
            query.Parameters.AddWithValue(generator.Run + "-anon-%");
            query.Parameters.AddWithValue(generator.Run);
            inconsistent += (long)(await query.ExecuteScalarAsync())!;
        }

        var faults = File.Exists(options.FaultLog) ? File.ReadLines(options.FaultLog).Count(static l => l.StartsWith("fault ", StringComparison.Ordinal)) : 0;
        Log($"drained={drained} stalled={stalled}; fault log {options.FaultLog}: {faults} faults; {retention.Summary()}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"chaos: acknowledged={acked.Count} stored={distinct} lost={missing} duplicates={stored - distinct} inconsistent_leads={inconsistent} faults={faults} duration_s={clock.Elapsed.TotalSeconds:F0}"));
        if (missing > 0 || stored != distinct || inconsistent > 0 || !drained || stalled)
        {
            Environment.ExitCode = 1;
        }
    }

    /// <summary>Waits until the run's rows reach <paramref name="expected"/>, or stop growing for a minute (exact counts).</summary>
    private static async Task<bool> DrainAsync(StoreProbe probe, string run, int expected, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        long last = -1;
        var lastChange = clock.Elapsed;
        while (clock.Elapsed < limit)
        {
            var stored = await probe.CountAsync(run);
            if (stored >= expected)
            {
                return true;
            }

            if (stored != last)
            {
                (last, lastChange) = (stored, clock.Elapsed);
            }
            else if (clock.Elapsed - lastChange > TimeSpan.FromMinutes(1))
            {
                return false;
            }

            await Task.Delay(1000);
        }

        return false;
    }

    private static bool FaultsDone(string path) => !File.Exists(path) || File.ReadLines(path).Any(static l => l == "done");

    private static void Log(string line) => Console.Error.WriteLine("[chaos] " + line);
}
