namespace Ingest.Deploy.Tests;

public sealed class ConfigurationNamesTests
{
    [Theory]
    [InlineData("Kafka__BootstrapServers")]
    [InlineData("Kafka__Client__security.protocol")]
    [InlineData("ConnectionStrings__Postgres")]
    [InlineData("Collector__WriteKeys__0")]
    [InlineData("Collector__Kafka__LingerMs")]
    [InlineData("Api__ReadKeys__3")]
    [InlineData("Webhooks__CallRail__SigningKeys__1")]
    [InlineData("Webhooks__Meta__VerifyToken")]
    [InlineData("Forms__contact-us__AllowedOrigins__0")]
    [InlineData("Governance__Taxonomy")]
    [InlineData("Worker__SessionTimeoutMs")]
    [InlineData("Logging__LogLevel__Microsoft.AspNetCore")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT")]
    public void Problem_NameTheServicesRead_IsNull(string name) => Assert.Null(ConfigurationNames.Problem(name));

    [Theory]
    [InlineData("Kafka__BootstrapServer")]
    [InlineData("Kafka__Bootstrap_Servers")]
    [InlineData("KAFKA_BOOTSTRAP_SERVERS")]
    [InlineData("ConnectionStrings__Postgresql")]
    [InlineData("Collector__WriteKeys")]
    [InlineData("Webhooks__Twilio__Token")]
    [InlineData("Webhooks__CallRail__SigningKeys__first")]
    [InlineData("Forms__contact__ThankYouUrl")]
    [InlineData("Governance__Rules")]
    [InlineData("Urls__0")]
    public void Problem_MisspeltOrUnknownName_SaysWhy(string name) => Assert.NotNull(ConfigurationNames.Problem(name));
}
