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
        Assert.Contains(setting, StartFailure(settings).ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Why the host did not start. WebApplicationFactory can lose a race with the entry point's own failing start and
    /// report the disposed service provider instead of the failure (dotnet/aspnetcore#33494; seen once in a full run
    /// on 2 cores): such an answer is asked again, five times at most.
    /// </summary>
    private static Exception StartFailure(Dictionary<string, string> settings)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var host = new WorkerHost(settings);
            var ex = Assert.ThrowsAny<Exception>(() => host.Start());
            if (ex is not ObjectDisposedException || attempt == 5)
            {
                return ex;
            }
        }
    }
}
