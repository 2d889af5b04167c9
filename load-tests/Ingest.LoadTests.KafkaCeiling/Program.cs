using System.Buffers;
using Confluent.Kafka;
using Ingest.Collector.Kafka;
using Ingest.ServiceDefaults;

// The limit for "202 only after Kafka's ack" on this machine: the collector's host model (slim builder, Kestrel) and its
// producer settings (TouchProducer.CreateConfig), and nothing else: no auth, validation, governance or encoding. The
// body is produced as it came, keyed over 64 keys so records spread across partitions as the collector's keyed ones do.
// load-tests/run.sh collector compares the collector against it in the same run. Start it with --urls.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var kafka = builder.Configuration.GetSection(KafkaOptions.Section).Get<KafkaOptions>() ?? new KafkaOptions();
var options = builder.Configuration.GetSection("Collector:Kafka").Get<TouchProducerOptions>() ?? new TouchProducerOptions();
using var producer = new ProducerBuilder<byte[]?, byte[]>(TouchProducer.CreateConfig(kafka, options)).Build();
var keys = Enumerable.Range(0, 64).Select(static i => System.Text.Encoding.ASCII.GetBytes("key-" + i)).ToArray();
var next = 0;
var app = builder.Build();

app.MapPost("/v1/touches", async (HttpContext http) =>
{
    var body = await ReadAsync(http.Request.BodyReader, http.RequestAborted);
    var delivered = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    var key = keys[(uint)Interlocked.Increment(ref next) % keys.Length];
    try
    {
        producer.Produce(kafka.TouchTopic, new Message<byte[]?, byte[]> { Key = key, Value = body },
            report => delivered.TrySetResult(!report.Error.IsError));
    }
    catch (ProduceException<byte[]?, byte[]>)
    {
        return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
    }

    return await delivered.Task ? Results.StatusCode(StatusCodes.Status202Accepted) : Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
});

app.Run();

static async Task<byte[]> ReadAsync(System.IO.Pipelines.PipeReader reader, CancellationToken cancellationToken)
{
    while (true)
    {
        var read = await reader.ReadAsync(cancellationToken);
        if (read.IsCompleted)
        {
            var body = read.Buffer.ToArray();
            reader.AdvanceTo(read.Buffer.End);
            return body;
        }

        reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
    }
}
