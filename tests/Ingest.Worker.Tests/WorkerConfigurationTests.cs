using Ingest.Testing;

namespace Ingest.Worker.Tests;

public sealed class WorkerConfigurationTests
{
    private static readonly Dictionary<string, string> Valid = new()
    {
        ["environment"] = "Production",
        ["Kafka:BootstrapServers"] = "127.0.0.1:1",
        ["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Port=1;Username=u;Password=p;Database=d",
        ["ConnectionStrings:Redis"] = "127.0.0.1:1",
    };

    [Theory]
    [InlineData("Worker:BatchSize", "0")]
    [InlineData("Worker:Writers", "0")]
    [InlineData("Worker:BatchTimeoutMs", "0")]
    [InlineData("Worker:SessionTimeoutMs", "10")]
    [InlineData("Worker:MaxRetryDelayMs", "1")]
    [InlineData("Worker:GroupId", " ")]
    [InlineData("Redis:KeyPrefix", "")]
    [InlineData("ConnectionStrings:Redis", "")]
    [InlineData("ConnectionStrings:Postgres", "")]
    public void Start_InvalidSetting_FailsNamingTheSetting(string setting, string value)
    {
        var settings = new Dictionary<string, string>(Valid) { [setting] = value };
        var failure = StartFailure.Of(() => new WorkerHost(settings), static host => host.Start());
        Assert.NotNull(failure);
        Assert.Contains(setting, failure.ToString(), StringComparison.Ordinal);
    }
}
