using System.Text;
using Ingest.Core.Serialization;

namespace Ingest.Core.Tests.Serialization;

public class TouchRecordJsonTests
{
    [Theory]
    [InlineData("""{"a":"x\u0000y"}""", """{"a":"x\ufffdy"}""", 1)]
    [InlineData("""{"a":"\u0000","b":"\u0000"}""", """{"a":"\ufffd","b":"\ufffd"}""", 2)]
    [InlineData("""{"a":"\\u0000"}""", """{"a":"\\u0000"}""", 0)]
    [InlineData("""{"a":"\\\u0000"}""", """{"a":"\\\ufffd"}""", 1)]
    [InlineData("""{"a":"no escapes"}""", """{"a":"no escapes"}""", 0)]
    public void ReplaceNul_ReplacesOnlyRealNulEscapes(string json, string expected, int count)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        Assert.Equal(count > 0, TouchRecordJson.ContainsNul(bytes));
        Assert.Equal(count, TouchRecordJson.ReplaceNul(bytes));
        Assert.Equal(expected, Encoding.UTF8.GetString(bytes));
        Assert.False(TouchRecordJson.ContainsNul(bytes));
    }
}
