using System.Globalization;
using Npgsql;

// load-tests/run.sh attribution: seeds the store (once per size; a database of its own) and times the attribution report.
//   seed    --postgres CONN --leads N --touches-per-lead M
//   measure --collector URL --read-key KEY --conversion lead|sql|… --rounds R --postgres CONN
var command = args.FirstOrDefault();
string Get(string name, string fallback)
{
    var i = Array.IndexOf(args, "--" + name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

var postgres = Get("postgres", "");
await using var db = NpgsqlDataSource.Create(postgres);
switch (command)
{
    case "seed":
        await Ingest.LoadTests.Attribution.Seed.RunAsync(db, Int("leads", 100_000), Int("touches-per-lead", 20));
        return 0;
    case "measure":
        return await Ingest.LoadTests.Attribution.Measure.RunAsync(db, Get("collector", "http://127.0.0.1:8080"), Get("read-key", "load-read-key"),
            Get("conversion", "lead"), Int("rounds", 3));
    default:
        Console.Error.WriteLine("usage: Ingest.LoadTests.Attribution seed|measure [--postgres CONN] …");
        return 2;
}
