using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Ingest.Core.Identity;
using Ingest.Core.Outcomes;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;
using Ingest.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Ingest.Worker.Tests;

[Collection(KafkaCollection.Name)]
public sealed class SpeedToLeadAlertTests(KafkaCluster kafka) : WorkerTestBase(kafka)
{
    private const string Secret = "alert-secret";

    private sealed record Received(string EventId, string Signature, byte[] Body, int Answered);

    [Fact]
    public async Task Alert_FiresOncePerBreachingLead_RetriedAfterAFailure_NotForALeadAnsweredInTimeOrNotYetDue()
    {
        // The test's own receiver: refuses the first delivery (500) to prove the retry, accepts the rest.
        var received = new ConcurrentQueue<Received>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var receiver = builder.Build();
        var calls = 0;
        receiver.MapPost("/alerts", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            var status = Interlocked.Increment(ref calls) == 1 ? 500 : 200;
            received.Enqueue(new Received(request.Headers["X-Ingest-Event-Id"].ToString(), request.Headers["X-Ingest-Signature"].ToString(), body.ToArray(), status));
            return Results.StatusCode(status);
        });
        await receiver.StartAsync();
        var url = receiver.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/alerts";

        var now = DateTimeOffset.UtcNow;
        // Yuki was answered 2 minutes after her form (in time); store that response before her touch so no round sees her unanswered.
        await ProduceOutcomeAsync($$"""{"event_id":"yuki-call","type":"response","channel":"call","by":"rep-1","email":"yuki@example.com","occurred_at":"{{now.AddMinutes(-8):O}}"}""");
        for (var i = 0; i < 100 && await QueryOneAsync<long>("select count(*) from outcomes") < 1; i++)
        {
            if (i == 0)
            {
                StartWorker(settings: new Dictionary<string, string>
                {
                    ["Alerts:SpeedToLead:Url"] = url,
                    ["Alerts:SpeedToLead:Secret"] = Secret,
                    ["Alerts:SpeedToLead:Minutes"] = "5",
                    ["Alerts:SpeedToLead:PollMs"] = "200",
                    ["Alerts:SpeedToLead:RetryBaseMs"] = "100",
                });
            }

            await Task.Delay(100);
        }

        // Xena: form 10 minutes ago, never answered (breaches). Yuki: answered in time. Zoe: form 1 minute ago (not due yet).
        await ProduceAsync(
            Touch($$"""{"event_id":"xena-form","kind":"form","email":"xena@example.com","occurred_at":"{{now.AddMinutes(-10):O}}","page_url":"https://acme.com/?utm_source=google&utm_medium=paid_search&utm_campaign=brand"}"""),
            Touch($$"""{"event_id":"yuki-form","kind":"form","email":"yuki@example.com","occurred_at":"{{now.AddMinutes(-10):O}}"}"""),
            Touch($$"""{"event_id":"zoe-form","kind":"form","email":"zoe@example.com","occurred_at":"{{now.AddMinutes(-1):O}}"}"""));
        await WaitForTouchesAsync(3);

        for (var i = 0; i < 100 && !received.Any(static r => r.Answered == 200); i++)
        {
            await Task.Delay(100);
        }

        // Several more rounds: a delivered alert is never sent again.
        await Task.Delay(1_000);
        var xena = await QueryOneAsync<Guid>("select lead_id from lead_identities where kind = 'email' and value = 'xena@example.com'");
        var all = received.ToArray();
        Assert.Equal([500, 200], all.Select(static r => r.Answered));
        Assert.All(all, r => Assert.Equal($"speed-to-lead:{xena}", r.EventId));
        foreach (var r in all)
        {
            Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), r.Body)), r.Signature);
        }

        using var alert = JsonDocument.Parse(all[1].Body);
        var root = alert.RootElement;
        Assert.Equal(xena, root.GetProperty("lead_id").GetGuid());
        Assert.Equal(5, root.GetProperty("minutes_without_response").GetInt32());
        var touch = root.GetProperty("lead_created_touch");
        Assert.Equal(("xena-form", "form", "paid_search", "google"), (touch.GetProperty("event_id").GetString(), touch.GetProperty("kind").GetString(),
            touch.GetProperty("channel").GetString(), touch.GetProperty("source").GetString()));
        Assert.Equal(1, await QueryOneAsync<long>("select count(*) from speed_to_lead_alerts where delivered_at is not null"));
        Assert.Equal(1, await QueryOneAsync<long>("select count(*) from speed_to_lead_alerts"));
    }

    private async Task ProduceOutcomeAsync(string json)
    {
        var payload = JsonSerializer.Deserialize(json, IngestJsonContext.Default.OutcomePayload)!;
        var record = new OutcomeBuilder(new IdentityNormalizer(), new TouchLimits()).Build(payload, new OutcomeContext { Door = "api", ReceivedAt = DateTimeOffset.UtcNow }).Record!;
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = Kafka.BootstrapServers }).Build();
        await producer.ProduceAsync(OutcomeTopic, new Message<byte[], byte[]>
        {
            Key = Encoding.UTF8.GetBytes(record.Leads[0].StrongestKey()),
            Value = JsonSerializer.SerializeToUtf8Bytes(record, IngestJsonContext.Default.OutcomeRecord),
        });
    }
}
