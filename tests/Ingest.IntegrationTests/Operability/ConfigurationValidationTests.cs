using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Ingest.IntegrationTests.Operability;

/// <summary>A collector that is only started, never called: its configuration must fail start-up.</summary>
public sealed class ConfiguredCollector(string environment, IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    public static readonly IReadOnlyDictionary<string, string?> Valid = new Dictionary<string, string?>
    {
        ["Kafka:BootstrapServers"] = "127.0.0.1:1",
        ["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Port=1;Username=u;Password=p;Database=d",
        ["Collector:WriteKeys:0"] = "config-write-key",
        ["Api:ReadKeys:0"] = "config-read-key",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>Starts the host with the valid settings changed by <paramref name="overrides"/> (null removes one); the message of the start-up failure, or null when it started.</summary>
    public static string? StartFailure(string environment, IReadOnlyDictionary<string, string?> overrides)
    {
        var settings = new Dictionary<string, string?>(Valid);
        foreach (var (key, value) in overrides)
        {
            if (value is null)
            {
                settings.Remove(key);
            }
            else
            {
                settings[key] = value;
            }
        }

        return Ingest.Testing.StartFailure.Of(() => new ConfiguredCollector(environment, settings), static factory => _ = factory.Server)?.ToString();
    }
}

public sealed class ConfigurationValidationTests
{
    [Theory]
    [InlineData("Collector:Kafka:AckTimeoutMs", "0")]
    [InlineData("Collector:Kafka:LingerMs", "-1")]
    [InlineData("Collector:Kafka:MaxQueuedMessages", "0")]
    [InlineData("Collector:Kafka:RetryAfterSeconds", "0")]
    [InlineData("Collector:RateLimit:PermitsPerSecond", "0")]
    [InlineData("Collector:RateLimit:Burst", "0")]
    [InlineData("Collector:Limits:MaxFutureSkew", "-00:01:00")]
    [InlineData("Collector:Limits:MaxPropertiesBytes", "0")]
    [InlineData("Collector:DefaultPhoneRegion", "ZZ")]
    [InlineData("Webhooks:Twilio:PublicBaseUrl", "not a url")]
    [InlineData("Webhooks:CallRail:SigningKeys:0", " ")]
    [InlineData("Kafka:BootstrapServers", "")]
    [InlineData("Kafka:TouchTopic", "")]
    [InlineData("Collector:WriteKeys:0", " ")]
    public void Start_InvalidSetting_FailsNamingTheSetting(string setting, string value)
    {
        var failure = ConfiguredCollector.StartFailure("Development", new Dictionary<string, string?> { [setting] = value });
        Assert.NotNull(failure);
        Assert.Contains(setting, failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Collector:WriteKeys")]
    [InlineData("Api:ReadKeys")]
    public void Start_ProductionWithoutKeys_FailsNamingTheSetting(string setting)
    {
        var failure = ConfiguredCollector.StartFailure("Production", new Dictionary<string, string?> { [setting + ":0"] = null });
        Assert.NotNull(failure);
        Assert.Contains(setting, failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_ProductionWithoutPostgres_FailsNamingTheSetting()
    {
        var failure = ConfiguredCollector.StartFailure("Production", new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = "" });
        Assert.NotNull(failure);
        Assert.Contains("ConnectionStrings:Postgres", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_ValidSettings_Starts() => Assert.Null(ConfiguredCollector.StartFailure("Production", new Dictionary<string, string?>()));
}
