using System.Diagnostics;
using System.Net;
using System.Text;
using Confluent.Kafka;
using Ingest.Collector.Kafka;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;
using Ingest.DevKafka.MockCluster;
using Ingest.ServiceDefaults;
using Ingest.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Ingest.IntegrationTests.Operability;

/// <summary>Its own host: its broker is taken down.</summary>
public sealed class ProducerFaultHost : CollectorHost;

/// <summary>Its own host: its producer is made fatal, for good.</summary>
public sealed class FatalProducerHost : CollectorHost;

public sealed class ProducerTests(ProducerFaultHost host) : IClassFixture<ProducerFaultHost>
{
    internal static StringContent Touch(string anonymousId) =>
        new($$"""{"kind":"form","anonymous_id":"{{anonymousId}}"}""", Encoding.UTF8, "application/json");

    private static EncodedTouch Encoded(string eventId)
    {
        var record = new TouchRecord
        {
            EventId = eventId,
            Kind = TouchKind.Form,
            Door = "api",
            OccurredAt = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero),
            ReceivedAt = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero),
            Identities = new TouchIdentities { AnonymousId = "producer-" + eventId },
        };
        return new EncodedTouch(record, TouchRecordJson.Encode(record));
    }

    [Fact]
    public async Task ProduceMany_TokenAlreadyCancelled_ThrowsAndProducesNothing()
    {
        var producer = host.Services.GetRequiredService<TouchProducer>();
        var eventId = TestEnvironment.UniqueName("cancelled");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => producer.ProduceManyAsync([Encoded(eventId)], cancelled.Token));
        Assert.Throws<InvalidOperationException>(() => host.Kafka.FindEvent(host.Topic, eventId, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task ProduceMany_CancelledWhileBrokerDown_StopsWaitingBeforeTheAckTimeout()
    {
        var producer = host.Services.GetRequiredService<TouchProducer>();
        await producer.ProduceManyAsync([Encoded(TestEnvironment.UniqueName("warm"))], CancellationToken.None);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var started = Stopwatch.StartNew();
        host.Kafka.Cluster.SetBrokerDown(1);
        try
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => producer.ProduceManyAsync([Encoded(TestEnvironment.UniqueName("down"))], cancel.Token));
        }
        finally
        {
            host.Kafka.Cluster.SetBrokerUp(1);
        }

        // The host's ack timeout is 3 s; the caller gave up after 0.3 s and must not wait for it.
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"waited {started.Elapsed}");
    }

    [Fact]
    public async Task ProduceMany_Span_EndsWhenKafkaAcknowledged()
    {
        var producer = host.Services.GetRequiredService<TouchProducer>();
        await producer.ProduceManyAsync([Encoded(TestEnvironment.UniqueName("warm"))], CancellationToken.None);
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = static s => s.Name == ServiceDefaultsExtensions.TelemetryName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (Equals(a.GetTagItem("messaging.destination.name"), host.Topic))
                {
                    lock (stopped)
                    {
                        stopped.Add(a);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        host.Kafka.Cluster.SetBrokerDown(1);
        Task<DeliveryFailure[]> delivery;
        DateTime returnedAt;
        try
        {
            delivery = producer.ProduceManyAsync([Encoded(TestEnvironment.UniqueName("span"))], CancellationToken.None);
            returnedAt = DateTime.UtcNow;
            await Task.Delay(500);
        }
        finally
        {
            host.Kafka.Cluster.SetBrokerUp(1);
        }

        await delivery;
        Activity span;
        lock (stopped)
        {
            span = Assert.Single(stopped);
        }

        // The broker was down for 0.5 s after the call returned: a span that ends at the acknowledgement lasts past it.
        Assert.True(span.StartTimeUtc + span.Duration >= returnedAt + TimeSpan.FromMilliseconds(400), $"span lasted {span.Duration}");
    }
}

public sealed class ProducerFatalErrorTests(FatalProducerHost host) : IClassFixture<FatalProducerHost>
{
    [Fact]
    public async Task Ready_ProducerFatalError_Answers503NamingTheProducer()
    {
        using var client = host.CreateClient(CollectorHost.WriteKey);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/touches", ProducerTests.Touch("fatal-warm"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

        var producer = host.Services.GetRequiredService<TouchProducer>();
        ClientFaults.RaiseFatalError(producer.Handle, ErrorCode.InvalidProducerEpoch, "test: producer fenced");

        var touch = await client.PostAsync("/v1/touches", ProducerTests.Touch("fatal-after"));
        await TouchesApiTests.AssertProblem(touch, HttpStatusCode.ServiceUnavailable, "kafka-unavailable");
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("fatal", await ready.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }
}
