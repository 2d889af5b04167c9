using System.Diagnostics;
using Confluent.Kafka;
using Ingest.Storage.Touches;

namespace Ingest.Worker.Consuming;

/// <summary>A batch on its way through the stages: its messages (for offsets) and the touches to store.</summary>
internal sealed class TouchBatch(List<ConsumeResult<byte[]?, byte[]>> messages, List<ResolvedTouch> touches, int duplicatesInBatch,
    Dictionary<ResolvedTouch, ConsumeResult<byte[]?, byte[]>> sources)
{
    /// <summary>Every message of the batch, dead-lettered ones included: their offsets are stored once the batch is.</summary>
    public List<ConsumeResult<byte[]?, byte[]>> Messages { get; } = messages;

    /// <summary>The parsed touches, one per event id; a touch Postgres or Redis refuses for good is taken out.</summary>
    public List<ResolvedTouch> Touches { get; } = touches;

    /// <summary>The message each touch was parsed from, to dead-letter it as it arrived.</summary>
    public ConsumeResult<byte[]?, byte[]> SourceOf(ResolvedTouch touch) => sources[touch];

    public int DuplicatesInBatch { get; } = duplicatesInBatch;

    public long Started { get; } = Stopwatch.GetTimestamp();
}
