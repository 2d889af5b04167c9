using System.Text;
using Ingest.Collector.Webhooks.HubSpot;

namespace Ingest.Collector.Tests.Webhooks.HubSpot;

public sealed class HubSpotSignatureTests
{
    private const string Secret = "hubspot-client-secret";
    private const string Timestamp = "1733131900000";
    private static readonly DateTimeOffset SentAt = DateTimeOffset.FromUnixTimeMilliseconds(1733131900000);

    // Computed at authoring time with openssl, not with the code under test:
    //   printf '%s' 'POSThttps://ingest.example.com/v1/webhooks/hubspot?src=a:b/c[]1733131900000' \
    //     | openssl dgst -sha256 -hmac 'hubspot-client-secret' -binary | base64
    private const string Vector = "CUoH8tyXtORbkP94ICIebMMGR69CIFVUJ5mMiQBvdII=";

    // The URI as called: HubSpot decodes %3A and %2F (among others) before signing.
    private const string CalledUri = "https://ingest.example.com/v1/webhooks/hubspot?src=a%3Ab%2fc";

    [Fact]
    public void Problem_OpensslVector_WithEncodedUri_Matches() =>
        Assert.Null(HubSpotSignature.Problem(Secret, "POST", CalledUri, "[]"u8, Timestamp, Vector, SentAt.AddMinutes(1)));

    [Fact]
    public void Problem_TamperedBodyOrTimestampOrSecret_IsRefused()
    {
        Assert.NotNull(HubSpotSignature.Problem(Secret, "POST", CalledUri, "[ ]"u8, Timestamp, Vector, SentAt));
        Assert.NotNull(HubSpotSignature.Problem(Secret, "POST", CalledUri, "[]"u8, "1733131900001", Vector, SentAt));
        Assert.NotNull(HubSpotSignature.Problem("another-secret", "POST", CalledUri, "[]"u8, Timestamp, Vector, SentAt));
        Assert.NotNull(HubSpotSignature.Problem(Secret, "POST", CalledUri + "&x=1", "[]"u8, Timestamp, Vector, SentAt));
        Assert.NotNull(HubSpotSignature.Problem(Secret, "POST", CalledUri, "[]"u8, Timestamp, "not base64!", SentAt));
    }

    [Fact]
    public void Problem_OlderThanFiveMinutes_IsRefusedEvenWhenSigned()
    {
        Assert.Null(HubSpotSignature.Problem(Secret, "POST", CalledUri, "[]"u8, Timestamp, Vector, SentAt.AddMinutes(5)));
        var stale = HubSpotSignature.Problem(Secret, "POST", CalledUri, "[]"u8, Timestamp, Vector, SentAt.AddMinutes(5).AddMilliseconds(1));
        Assert.Contains("5 minutes", stale, StringComparison.Ordinal);
    }

    [Fact]
    public void Problem_MissingHeaders_IsRefused()
    {
        Assert.NotNull(HubSpotSignature.Problem(Secret, "POST", CalledUri, Encoding.UTF8.GetBytes("[]"), null, Vector, SentAt));
        Assert.NotNull(HubSpotSignature.Problem(Secret, "POST", CalledUri, Encoding.UTF8.GetBytes("[]"), Timestamp, null, SentAt));
    }
}
