using Ingest.Core.Touches;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Ingest.Collector.Problems;

/// <summary>Builds RFC 7807 responses with the stable type/title, the offending field and, for validation, every field error.</summary>
public static class ProblemResponses
{
    public static ProblemHttpResult Problem(int status, ProblemType type, string detail, string? field = null, IReadOnlyList<FieldError>? errors = null)
    {
        var extensions = new Dictionary<string, object?>();
        if (field is not null)
        {
            extensions["field"] = field;
        }

        if (errors is { Count: > 0 })
        {
            extensions["errors"] = errors;
        }

        return TypedResults.Problem(detail, statusCode: status, title: type.Title, type: type.Type, extensions: extensions);
    }

    public static ProblemHttpResult Validation(IReadOnlyList<FieldError> errors, int status = StatusCodes.Status422UnprocessableEntity) =>
        Problem(status, status == StatusCodes.Status400BadRequest ? ProblemTypes.Malformed : ProblemTypes.Validation,
            errors[0].Message, errors[0].Field, errors);

    /// <summary>
    /// Gives problems produced by the framework itself (routing's 404/405/415, unhandled 500) the same stable types as
    /// ours, so clients can always switch on <c>type</c>.
    /// </summary>
    public static void ApplyStableType(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Type is not null && problem.Type.StartsWith("https://ingest.dev/", StringComparison.Ordinal))
        {
            return;
        }

        ProblemType? stable = problem.Status switch
        {
            StatusCodes.Status400BadRequest => ProblemTypes.Malformed,
            StatusCodes.Status404NotFound => ProblemTypes.NotFound,
            StatusCodes.Status405MethodNotAllowed => ProblemTypes.MethodNotAllowed,
            StatusCodes.Status413PayloadTooLarge => ProblemTypes.TooLarge,
            StatusCodes.Status415UnsupportedMediaType => ProblemTypes.UnsupportedMediaType,
            StatusCodes.Status500InternalServerError => ProblemTypes.Internal,
            _ => null,
        };
        if (stable is null)
        {
            return;
        }

        problem.Type = stable.Type;
        problem.Title = stable.Title;
        if (problem.Status == StatusCodes.Status415UnsupportedMediaType)
        {
            problem.Detail ??= "Send the body as application/json (or text/plain holding JSON) here.";
            problem.Extensions["field"] = "Content-Type";
        }
    }

    /// <summary>Writes a problem outside an endpoint (authentication, rate limiter, body limits).</summary>
    public static Task Write(HttpContext context, int status, ProblemType type, string detail, string? field = null, TimeSpan? retryAfter = null)
    {
        context.Response.StatusCode = status;
        if (retryAfter is { } delay)
        {
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(delay.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var problem = new ProblemDetails { Status = status, Type = type.Type, Title = type.Title, Detail = detail };
        if (field is not null)
        {
            problem.Extensions["field"] = field;
        }

        return context.RequestServices.GetRequiredService<IProblemDetailsService>()
            .WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).AsTask();
    }
}
