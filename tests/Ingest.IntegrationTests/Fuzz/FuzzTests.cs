using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;
using Ingest.IntegrationTests.Doors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using YamlDotNet.RepresentationModel;

namespace Ingest.IntegrationTests.Fuzz;

/// <summary>Every door configured, limits high enough that the fuzz reaches the parsers rather than the rate limiter.</summary>
public sealed class FuzzHost : CollectorHost
{
    private long _serverErrors;

    // Real Kestrel on a free loopback port: the fuzz must meet the server's own request-line and header parsing too.
    public FuzzHost() => UseKestrel(static o => o.Listen(System.Net.IPAddress.Loopback, 0));

    /// <summary>Answers of 500 or more the server wrote, counted by the outermost middleware (also those the client never read).</summary>
    public long ServerErrors => Interlocked.Read(ref _serverErrors);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddSingleton<IStartupFilter>(new ServerErrorCounter(this)));
    }

    private sealed class ServerErrorCounter(FuzzHost host) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, inner) =>
            {
                await inner(context);
                if (context.Response.StatusCode >= 500)
                {
                    Interlocked.Increment(ref host._serverErrors);
                }
            });
            next(app);
        };
    }

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Webhooks:CallRail:SigningKeys:0"] = DoorsHost.CallRailKey,
        ["Webhooks:Twilio:AuthToken"] = DoorsHost.TwilioToken,
        ["Webhooks:GoogleAds:Key"] = DoorsHost.GoogleKey,
        ["Webhooks:Meta:AppSecret"] = DoorsHost.MetaSecret,
        ["Webhooks:Meta:VerifyToken"] = DoorsHost.MetaVerifyToken,
        ["Forms:contact:RedirectUrl"] = "https://www.acme.com/thank-you",
        ["Forms:contact:AllowedOrigins:0"] = "https://www.acme.com",
        ["Forms:open:RedirectUrl"] = "https://www.acme.com/thanks",
        ["Collector:CorsOrigins:0"] = "https://www.acme.com",
        ["Collector:RateLimit:PermitsPerSecond"] = "1000000",
        ["Collector:RateLimit:Burst"] = "1000000",
        ["Collector:FormRateLimit:ClientPermitsPerMinute"] = "10000000",
        ["Collector:FormRateLimit:ClientBurst"] = "1000000",
        ["Collector:FormRateLimit:FormPermitsPerMinute"] = "10000000",
        ["Collector:FormRateLimit:FormBurst"] = "1000000",
        ["Collector:Browser:PermitsPerSecondPerAddress"] = "1000000",
        ["Collector:Browser:BurstPerAddress"] = "1000000",
    };
}

/// <summary>
/// The fuzz run of every door (<see cref="HostileRequests"/>): every answer is a status openapi.yaml documents for that
/// operation, every error is application/problem+json with one of the stable types, no answer is a 5xx, the managed
/// heap stays bounded, and every record on the topic is a valid touch. A short seeded slice runs in ./test.sh; the full
/// run is <c>load-tests/run.sh fuzz</c> (FUZZ_REQUESTS_PER_DOOR=10000, FUZZ_SEED, FUZZ_SUMMARY_FILE; FUZZ_DOORS=meta,forms to replay some doors).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzCollection
{
    public const string Name = "fuzz";
}

[Collection(FuzzCollection.Name)] // alone in the process while it runs, so the heap it measures is its own
public sealed class FuzzTests(FuzzHost host, ITestOutputHelper output) : IClassFixture<FuzzHost>
{
    private static readonly HashSet<string> StableTypes = typeof(Ingest.Collector.Problems.ProblemTypes)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Select(static f => ((Ingest.Collector.Problems.ProblemType)f.GetValue(null)!).Type)
        .ToHashSet(StringComparer.Ordinal);

    [Fact]
    public async Task Fuzz_EveryDoor_AnswersDocumentedProblemsNever5xxAndProducesOnlyValidTouches()
    {
        var perDoor = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_REQUESTS_PER_DOOR"), CultureInfo.InvariantCulture, out var n) ? n : 250;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 20261202;
        var documented = DocumentedStatuses();
        host.StartServer();
        var address = host.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        // A plain client over real sockets: no redirects followed (forms answer 303 to another site), no cookies kept.
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(address) };
        client.Timeout = TimeSpan.FromSeconds(30);
        var generator = new HostileRequests(seed, client.BaseAddress!);
        _ = await client.GetAsync("/health/ready");

        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long requests = 0, answers5xx = 0, undocumented = 0, serverRejected = 0, closedEarly = 0, peakHeap = heapBefore;
        var serverErrorsBefore = host.ServerErrors;
        var findings = new List<string>();
        var statuses = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var started = Stopwatch.StartNew();

        var only = Environment.GetEnvironmentVariable("FUZZ_DOORS")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var door in HostileRequests.Doors.Where(d => only is not { Length: > 0 } || only.Contains(d.Name)))
        {
            var allowed = documented[(door.Method, door.PathTemplate)];
            for (var i = 0; i < perDoor; i++)
            {
                using var request = generator.Next(door);
                var described = HostileRequests.Describe(request);
                requests++;
                HttpResponseMessage sent;
                try
                {
                    sent = await client.SendAsync(request);
                }
                catch (HttpRequestException ex) when (ex.InnerException is IOException)
                {
                    // The server answered (413) and closed before the client finished sending an oversized body; the
                    // answer itself is counted server-side (ServerErrors) if it was a 5xx.
                    closedEarly++;
                    continue;
                }

                using var response = sent;
                var status = (int)response.StatusCode;
                if (status is 400 or 414 or 431 && response.Content.Headers.ContentLength == 0 && response.Headers.ConnectionClose == true)
                {
                    // Kestrel refused the request line or headers (a NUL in the path, a URL over its 8 KiB limit)
                    // before any application code ran: the protocol's own answer, which no middleware can turn into a problem.
                    serverRejected++;
                    statuses[$"{door.Name} {status} (Kestrel)"] = statuses.GetValueOrDefault($"{door.Name} {status} (Kestrel)") + 1;
                    continue;
                }

                var key = $"{door.Name} {status}";
                statuses[key] = statuses.GetValueOrDefault(key) + 1;
                string? problem = null;
                if (status >= 500)
                {
                    answers5xx++;
                    problem = "5xx";
                }

                if (!allowed.Contains(status))
                {
                    undocumented++;
                    problem ??= "undocumented status";
                }
                else if (status >= 400 && !IsStableProblem(response, await response.Content.ReadAsByteArrayAsync()))
                {
                    undocumented++;
                    problem = "not a stable application/problem+json";
                }

                if (problem is not null && findings.Count(f => f.StartsWith(problem, StringComparison.Ordinal)) < 15)
                {
                    findings.Add($"{problem}: {door.Name} {described} → {status} {response.Content.Headers.ContentType} {Truncate(await response.Content.ReadAsStringAsync())}");
                }

                if (requests % 500 == 0)
                {
                    peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(forceFullCollection: false));
                }
            }
        }

        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        answers5xx = Math.Max(answers5xx, host.ServerErrors - serverErrorsBefore);
        var (records, invalid, invalidFindings) = ReadBackTopic();
        findings.AddRange(invalidFindings);
        var summary = $"fuzz: requests={requests} answers_5xx={answers5xx} undocumented={undocumented} reached_kafka_invalid={invalid}";
        output.WriteLine(string.Join('\n', statuses.Select(static kv => $"  {kv.Key}: {kv.Value}")));
        output.WriteLine($"refused by Kestrel before the app: {serverRejected}; closed while the client still sent: {closedEarly}; records on the topic: {records}; heap before {heapBefore / 1_048_576} MiB, peak sample {peakHeap / 1_048_576} MiB, after {heapAfter / 1_048_576} MiB; {started.Elapsed.TotalSeconds:F0} s; seed {seed}");
        output.WriteLine(string.Join('\n', findings));
        output.WriteLine(summary);
        if (Environment.GetEnvironmentVariable("FUZZ_SUMMARY_FILE") is { Length: > 0 } file)
        {
            await File.WriteAllTextAsync(file, string.Join('\n', statuses.Select(static kv => $"  {kv.Key}: {kv.Value}"))
                + $"\nrefused by Kestrel before the app: {serverRejected}; closed while the client still sent: {closedEarly}; records on the topic: {records}; heap before {heapBefore / 1_048_576} MiB, peak sample {peakHeap / 1_048_576} MiB, after {heapAfter / 1_048_576} MiB; {started.Elapsed.TotalSeconds:F0} s; seed {seed}\n"
                + string.Join('\n', findings) + (findings.Count > 0 ? "\n" : "") + summary + "\n");
        }

        Assert.True(findings.Count == 0, string.Join('\n', findings));
        Assert.Equal(0, answers5xx);
        Assert.Equal(0, undocumented);
        Assert.Equal(0, invalid);
        Assert.True(records > 0, "no fuzz request reached Kafka: the generator no longer exercises the accepting path");
        // Bounded: after a full collection the run has left less than a fixed amount behind whatever the number of
        // requests (a slice of 3,000 has left up to ~150 MiB of pooled buffers, the full run of 120,000 about 20 MiB: not
        // proportional). Measured as growth: the test process also holds what the test classes before it left (306 MiB
        // before the slice once, with the browser and outcome fixtures), which an absolute bound would count.
        Assert.True(heapAfter - heapBefore < 256L * 1_048_576, $"heap after the run: {heapAfter / 1_048_576} MiB (before {heapBefore / 1_048_576} MiB)");
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private static bool IsStableProblem(HttpResponseMessage response, byte[] body)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("type", out var type) && type.GetString() is { } value && StableTypes.Contains(value)
                && document.RootElement.TryGetProperty("title", out var title) && title.ValueKind == JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    // (method, path) → the statuses openapi.yaml documents for the operation.
    private static Dictionary<(string, string), HashSet<int>> DocumentedStatuses()
    {
        string? path = null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null && path is null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "openapi.yaml");
            path = File.Exists(candidate) ? candidate : null;
        }

        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(path ?? throw new FileNotFoundException("openapi.yaml"))));
        var paths = (YamlMappingNode)((YamlMappingNode)stream.Documents[0].RootNode).Children[new YamlScalarNode("paths")];
        var result = new Dictionary<(string, string), HashSet<int>>();
        foreach (var (pathNode, operations) in paths.Children)
        {
            foreach (var (methodNode, operation) in ((YamlMappingNode)operations).Children)
            {
                if (operation is YamlMappingNode op && op.Children.TryGetValue(new YamlScalarNode("responses"), out var responses))
                {
                    result[(((YamlScalarNode)methodNode).Value!.ToUpperInvariant(), ((YamlScalarNode)pathNode).Value!)] =
                        ((YamlMappingNode)responses).Children.Keys.Select(static k => int.Parse(((YamlScalarNode)k).Value!, CultureInfo.InvariantCulture)).ToHashSet();
                }
            }
        }

        // A route the app does not have (a form id that is not a token, a lead id that is not a guid) answers 404, and a
        // wrong method 405: both documented once for the whole API in the problem types, not per operation.
        foreach (var statuses in result.Values)
        {
            statuses.UnionWith([404]);
        }

        return result;
    }

    // Every record the fuzz run produced, read back and held to what the worker stores: a touch record of schema 1
    // with an event id, a kind, a door, an identity, no NUL and no unpaired surrogate.
    private (int Records, int Invalid, List<string> Findings) ReadBackTopic()
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = host.Kafka.BootstrapServers,
            GroupId = "fuzz-readback-" + Guid.NewGuid(),
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        const int Partitions = 4;
        consumer.Assign(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(host.Topic, p, Offset.Beginning)));
        var eof = new HashSet<int>();
        int records = 0, invalid = 0;
        var findings = new List<string>();
        var deadline = Stopwatch.StartNew();
        while (eof.Count < Partitions && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            var result = consumer.Consume(TimeSpan.FromSeconds(1));
            if (result is null)
            {
                continue;
            }

            if (result.IsPartitionEOF)
            {
                eof.Add(result.Partition.Value);
                continue;
            }

            records++;
            if (InvalidRecord(result.Message) is { } reason)
            {
                invalid++;
                if (findings.Count < 20)
                {
                    findings.Add($"invalid record at {result.TopicPartitionOffset}: {reason}");
                }
            }
        }

        Assert.Equal(Partitions, eof.Count);
        return (records, invalid, findings);
    }

    // A JSON escape for NUL: "\u0000" whose backslash is not itself escaped (the text \u0000, six characters a user sent
    // literally, is serialized as "\\u0000" and is no NUL).
    private static bool HasNulEscape(ReadOnlySpan<byte> json)
    {
        for (var at = json.IndexOf("\\u0000"u8); at >= 0;)
        {
            var backslashes = 0;
            for (var j = at - 1; j >= 0 && json[j] == (byte)'\\'; j--)
            {
                backslashes++;
            }

            if (backslashes % 2 == 0)
            {
                return true;
            }

            var next = json[(at + 1)..].IndexOf("\\u0000"u8);
            at = next < 0 ? -1 : at + 1 + next;
        }

        return false;
    }

    private static string? InvalidRecord(Message<byte[]?, byte[]> message)
    {
        var value = message.Value;
        if (!message.Headers.TryGetLastBytes("schema-version", out var version) || Encoding.ASCII.GetString(version) != "1")
        {
            return "schema-version header missing or not 1";
        }

        if (HasNulEscape(value) || value.AsSpan().IndexOf((byte)0) >= 0)
        {
            return "NUL in the record: " + Encoding.UTF8.GetString(value[..Math.Min(value.Length, 300)]);
        }

        TouchRecord? record;
        try
        {
            // Strict UTF-8; an unpaired surrogate escape fails to become a .NET string here.
            record = JsonSerializer.Deserialize(value, IngestJsonContext.Default.TouchRecord);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return "not a touch record: " + ex.Message;
        }

        if (record is null)
        {
            return "null record";
        }

        if (string.IsNullOrWhiteSpace(record.EventId) || record.EventId.Length > 128 || record.EventId.Any(char.IsControl))
        {
            return "bad event_id";
        }

        if (string.IsNullOrEmpty(record.Door) || !Enum.IsDefined(record.Kind))
        {
            return "no door or kind";
        }

        if (record.Identities.StrongestKey() is null && (record.ClickIds is null || record.ClickIds.Count == 0))
        {
            return "no identity";
        }

        if (value.Length > 1024 * 1024)
        {
            return $"{value.Length} bytes";
        }

        if (!message.Headers.TryGetLastBytes("event-id", out var id) || Encoding.UTF8.GetString(id) != record.EventId)
        {
            return "event-id header does not match";
        }

        return UnpairedSurrogate(value) ? "unpaired surrogate in a string" : null;
    }

    // Every string and property name of the record, unescaped: an unpaired surrogate escape throws or survives as a lone char.
    private static bool UnpairedSurrogate(byte[] value)
    {
        try
        {
            using var document = JsonDocument.Parse(value);
            return Strings(document.RootElement).Any(HasLoneSurrogate);
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private static IEnumerable<string> Strings(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                yield return element.GetString()!;
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    yield return property.Name;
                    foreach (var inner in Strings(property.Value))
                    {
                        yield return inner;
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var inner in element.EnumerateArray().SelectMany(Strings))
                {
                    yield return inner;
                }

                break;
        }
    }

    private static bool HasLoneSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return true;
                }

                i++;
            }
            else if (char.IsLowSurrogate(text[i]))
            {
                return true;
            }
        }

        return false;
    }
}
