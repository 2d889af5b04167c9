using System.Globalization;
using Ingest.Collector.Kafka;
using Ingest.Collector.Problems;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ingest.Collector.Touches;

/// <summary>The one place an intake outcome becomes an HTTP answer for every door: 422 with the field errors, 503 with Retry-After.</summary>
public static class IntakeAnswers
{
    /// <summary>The problem to answer for a rejected or unavailable outcome; null when the touch was accepted.</summary>
    public static ProblemHttpResult? Problem(HttpContext http, IntakeOutcome outcome, TouchProducerOptions options)
    {
        if (outcome.Rejected)
        {
            return ProblemResponses.Validation(outcome.Errors);
        }

        return outcome.Unavailable ? KafkaUnavailable(http, options, outcome.Failure) : null;
    }

    /// <summary>Sets Retry-After on an answer that holds unavailable items: the client retries them with the same event ids.</summary>
    public static void SetRetryAfter(HttpContext http, TouchProducerOptions options) =>
        http.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);

    /// <summary>503 with Retry-After: the client retries with the same event_id and nothing is stored twice.</summary>
    private static ProblemHttpResult KafkaUnavailable(HttpContext http, TouchProducerOptions options, DeliveryFailure failure)
    {
        SetRetryAfter(http, options);
        var detail = failure == DeliveryFailure.QueueFull
            ? "The collector's Kafka queue is full; retry shortly with the same event_id."
            : "Kafka did not acknowledge the write in time; retry with the same event_id.";
        return ProblemResponses.Problem(StatusCodes.Status503ServiceUnavailable, ProblemTypes.KafkaUnavailable, detail);
    }
}
