using Ingest.Collector.Kafka;
using Ingest.Core.Touches;

namespace Ingest.Collector.Touches;

/// <summary>The outcome of taking one touch in.</summary>
public readonly record struct IntakeOutcome(string? EventId, IReadOnlyList<FieldError> Errors, DeliveryFailure Failure)
{
    public bool Accepted => Errors.Count == 0 && Failure == DeliveryFailure.None;
    public bool Rejected => Errors.Count > 0;
    public bool Unavailable => Failure != DeliveryFailure.None;
}

/// <summary>
/// The pipeline every door shares: validate → normalize → govern → serialize → produce, acknowledged only after Kafka's
/// delivery report. Batches produce every valid touch first and then await all reports together, as one completion.
/// </summary>
public sealed class TouchIntake(TouchBuilder builder, TouchProducer producer, CollectorMetrics metrics, TimeProvider time)
{
    public TimeProvider Time => time;

    public async Task<IntakeOutcome> AcceptAsync(TouchPayload payload, TouchContext context, CancellationToken cancellationToken)
    {
        var built = builder.Build(payload, context);
        if (!built.IsValid)
        {
            metrics.Rejected(context.Door, built.Errors[0].Code);
            return new IntakeOutcome(payload.EventId, built.Errors, DeliveryFailure.None);
        }

        return await PublishAsync(built.Record!, cancellationToken);
    }

    /// <summary>Takes many touches at once; one bad item never costs the good ones.</summary>
    public async Task<IntakeOutcome[]> AcceptManyAsync(IReadOnlyList<TouchPayload?> payloads, Func<int, TouchContext> context, CancellationToken cancellationToken)
    {
        var outcomes = new IntakeOutcome[payloads.Count];
        var records = new List<TouchRecord>(payloads.Count);
        var indexes = new List<int>(payloads.Count);
        for (var i = 0; i < payloads.Count; i++)
        {
            if (payloads[i] is not { } payload)
            {
                continue;
            }

            var ctx = context(i);
            var built = builder.Build(payload, ctx);
            if (!built.IsValid)
            {
                metrics.Rejected(ctx.Door, built.Errors[0].Code);
                outcomes[i] = new IntakeOutcome(payload.EventId, built.Errors, DeliveryFailure.None);
                continue;
            }

            records.Add(built.Record!);
            indexes.Add(i);
        }

        var failures = await producer.ProduceManyAsync(records, cancellationToken);
        for (var j = 0; j < records.Count; j++)
        {
            outcomes[indexes[j]] = Outcome(records[j], failures[j]);
        }

        return outcomes;
    }

    /// <summary>Produces an already built record (webhooks that build records themselves use this).</summary>
    public async Task<IntakeOutcome> PublishAsync(TouchRecord record, CancellationToken cancellationToken) =>
        Outcome(record, await producer.ProduceAsync(record, cancellationToken));

    private IntakeOutcome Outcome(TouchRecord record, DeliveryFailure failure)
    {
        if (failure == DeliveryFailure.None)
        {
            metrics.Accepted(record.Door);
        }
        else
        {
            metrics.Rejected(record.Door, "kafka_" + failure.ToString().ToLowerInvariant());
        }

        return new IntakeOutcome(record.EventId, [], failure);
    }

    /// <summary>Builds a record without producing it (for doors that need to inspect it first).</summary>
    public TouchBuildResult Build(TouchPayload payload, TouchContext context) => builder.Build(payload, context);
}
