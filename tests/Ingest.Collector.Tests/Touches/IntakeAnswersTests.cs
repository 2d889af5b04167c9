using Ingest.Collector.Kafka;
using Ingest.Collector.Touches;
using Ingest.Core.Touches;
using Microsoft.AspNetCore.Http;

namespace Ingest.Collector.Tests.Touches;

public sealed class IntakeAnswersTests
{
    private static readonly TouchProducerOptions Options = new() { RetryAfterSeconds = 7 };

    [Fact]
    public void Problem_Accepted_IsNull()
    {
        var http = new DefaultHttpContext();
        Assert.Null(IntakeAnswers.Problem(http, new IntakeOutcome("e1", [], DeliveryFailure.None), Options));
        Assert.False(http.Response.Headers.ContainsKey("Retry-After"));
    }

    [Fact]
    public void Problem_Rejected_Is422NamingTheField()
    {
        var outcome = new IntakeOutcome(null, [new FieldError("email", "invalid_email", "email is not a valid address.")], DeliveryFailure.None);
        var problem = IntakeAnswers.Problem(new DefaultHttpContext(), outcome, Options)!;
        Assert.Equal(422, problem.StatusCode);
        Assert.Equal("https://ingest.dev/problems/validation", problem.ProblemDetails.Type);
        Assert.Equal("email", problem.ProblemDetails.Extensions["field"]);
    }

    [Fact]
    public void Problem_QueueFull_Is503WithRetryAfter()
    {
        var http = new DefaultHttpContext();
        var problem = IntakeAnswers.Problem(http, new IntakeOutcome("e1", [], DeliveryFailure.QueueFull), Options)!;
        Assert.Equal(503, problem.StatusCode);
        Assert.Equal("https://ingest.dev/problems/kafka-unavailable", problem.ProblemDetails.Type);
        Assert.Equal("7", http.Response.Headers.RetryAfter.ToString());
    }
}
