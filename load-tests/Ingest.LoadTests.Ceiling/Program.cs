using System.IO.Pipelines;

// Same host model as the collector (slim builder, Kestrel, HTTP/1.1), no other work: the machine's ceiling for
// "read a touch body and answer 202". load-tests/run.sh compares the collector against it in the same run.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();

app.MapPost("/v1/touches", static async (HttpContext http) => await Drain(http))
    .WithName("Touch");
app.MapPost("/v1/touches/batch", static async (HttpContext http) => await Drain(http))
    .WithName("Batch");

app.Run();

static async Task<IResult> Drain(HttpContext http)
{
    var reader = http.Request.BodyReader;
    while (true)
    {
        var read = await reader.ReadAsync(http.RequestAborted);
        reader.AdvanceTo(read.Buffer.End);
        if (read.IsCompleted)
        {
            break;
        }
    }

    return Results.StatusCode(StatusCodes.Status202Accepted);
}
