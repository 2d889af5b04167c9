using System.Text.Json;
using Ingest.Collector.Kafka;
using Ingest.Core.Serialization;
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
/// The pipeline every door shares: validate → normalize → govern → serialize (storable JSON, see
/// <see cref="TouchRecordJson"/>) → produce, acknowledged only after Kafka's delivery report. Batches produce every valid touch first and then await all reports together, as one completion.
/// </summary>
public sealed class TouchIntake(TouchBuilder builder, TouchProducer producer, CollectorMetrics metrics)
{
    /// <summary>Takes one touch in.</summary>
    public async Task<IntakeOutcome> AcceptAsync(TouchPayload payload, TouchContext context, CancellationToken cancellationToken) =>
        (await AcceptManyAsync([payload], _ => context, cancellationToken))[0];

    /// <summary>Takes many touches at once; one bad item never costs the good ones.</summary>
    public async Task<IntakeOutcome[]> AcceptManyAsync(IReadOnlyList<TouchPayload?> payloads, Func<int, TouchContext> context, CancellationToken cancellationToken)
    {
        var outcomes = new IntakeOutcome[payloads.Count];
        var touches = new List<EncodedTouch>(payloads.Count);
        var indexes = new List<int>(payloads.Count);
        for (var i = 0; i < payloads.Count; i++)
        {
            if (payloads[i] is not { } payload)
            {
                continue;
            }

            var ctx = context(i);
            var built = builder.Build(payload, ctx);
            if (built.Record is not { } record)
            {
                outcomes[i] = Rejected(ctx.Door, payload.EventId, built.Errors);
                continue;
            }

            byte[] value;
            try
            {
                value = TouchRecordJson.Encode(record);
            }
            catch (JsonException)
            {
                outcomes[i] = Rejected(ctx.Door, record.EventId,
                    [new FieldError("properties", "invalid_text", "properties holds a string that is not valid Unicode (an unpaired surrogate escape).")]);
                continue;
            }

            touches.Add(new EncodedTouch(record, value));
            indexes.Add(i);
        }

        var failures = await producer.ProduceManyAsync(touches, cancellationToken);
        for (var j = 0; j < touches.Count; j++)
        {
            var (record, _) = touches[j];
            if (failures[j] == DeliveryFailure.None)
            {
                metrics.Accepted(record.Door);
            }
            else
            {
                metrics.Rejected(record.Door, "kafka_" + failures[j].ToString().ToLowerInvariant());
            }

            outcomes[indexes[j]] = new IntakeOutcome(record.EventId, [], failures[j]);
        }

        return outcomes;
    }

    private IntakeOutcome Rejected(string door, string? eventId, IReadOnlyList<FieldError> errors)
    {
        metrics.Rejected(door, errors[0].Code);
        return new IntakeOutcome(eventId, errors, DeliveryFailure.None);
    }
}
