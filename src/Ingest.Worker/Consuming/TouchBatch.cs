using System.Diagnostics;
using Confluent.Kafka;
using Ingest.Storage.Touches;

namespace Ingest.Worker.Consuming;

/// <summary>A batch on its way through the stages: its messages (for offsets) and the touches to store.</summary>
internal sealed class TouchBatch(List<ConsumeResult<byte[]?, byte[]>> messages, List<ResolvedTouch> touches, int duplicatesInBatch)
{
    /// <summary>Every message of the batch, dead-lettered ones included: their offsets are stored once the batch is.</summary>
    public List<ConsumeResult<byte[]?, byte[]>> Messages { get; } = messages;

    /// <summary>The parsed touches, one per event id.</summary>
    public List<ResolvedTouch> Touches { get; } = touches;

    public int DuplicatesInBatch { get; } = duplicatesInBatch;

    public long Started { get; } = Stopwatch.GetTimestamp();
}
