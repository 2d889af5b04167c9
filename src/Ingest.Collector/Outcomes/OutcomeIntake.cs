using System.Text.Json;
using Ingest.Collector.Kafka;
using Ingest.Collector.Touches;
using Ingest.Core.Outcomes;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;

namespace Ingest.Collector.Outcomes;

/// <summary>
/// The pipeline both outcome doors (the API and HubSpot) share: validate → normalize → serialize → produce to
/// <c>outcomes.v1</c> through the process's one producer, acknowledged only after Kafka's delivery report. One
/// <see cref="IntakeOutcome"/> per item, so the touch doors' answers (<see cref="IntakeAnswers"/>) serve outcomes too.
/// </summary>
public sealed partial class OutcomeIntake(OutcomeBuilder builder, TouchProducer producer, ILogger<OutcomeIntake> logger)
{
    /// <summary>Takes one outcome in.</summary>
    public async Task<IntakeOutcome> AcceptAsync(OutcomePayload payload, OutcomeContext context, CancellationToken cancellationToken) =>
        (await AcceptManyAsync([payload], _ => context, cancellationToken))[0];

    /// <summary>Takes many outcomes at once; one bad item never costs the good ones.</summary>
    public async Task<IntakeOutcome[]> AcceptManyAsync(IReadOnlyList<OutcomePayload?> payloads, Func<int, OutcomeContext> context, CancellationToken cancellationToken)
    {
        var results = new IntakeOutcome[payloads.Count];
        var encoded = new List<EncodedOutcome>(payloads.Count);
        var indexes = new List<int>(payloads.Count);
        var rejected = 0;
        for (var i = 0; i < payloads.Count; i++)
        {
            if (payloads[i] is not { } payload)
            {
                continue;
            }

            var built = builder.Build(payload, context(i));
            if (built.Record is not { } record)
            {
                rejected++;
                results[i] = new IntakeOutcome(payload.EventId, built.Errors, DeliveryFailure.None);
                continue;
            }

            encoded.Add(new EncodedOutcome(record, JsonSerializer.SerializeToUtf8Bytes(record, IngestJsonContext.Default.OutcomeRecord)));
            indexes.Add(i);
        }

        var failures = await producer.ProduceOutcomesAsync(encoded, cancellationToken);
        var unavailable = 0;
        for (var j = 0; j < encoded.Count; j++)
        {
            unavailable += failures[j] == DeliveryFailure.None ? 0 : 1;
            results[indexes[j]] = new IntakeOutcome(encoded[j].Record.EventId, [], failures[j]);
        }

        LogOutcomes(logger, encoded.Count - unavailable, rejected, unavailable);
        return results;
    }

    [LoggerMessage(EventId = 1501, Level = LogLevel.Debug, Message = "Outcomes taken in: {Accepted} accepted, {Rejected} rejected, {Unavailable} unavailable")]
    private static partial void LogOutcomes(ILogger logger, int accepted, int rejected, int unavailable);
}
