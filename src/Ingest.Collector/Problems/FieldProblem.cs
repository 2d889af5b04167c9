using Ingest.Core.Touches;

namespace Ingest.Collector.Problems;

/// <summary>A 422 as the collector writes it: RFC 7807 with the first offending field and every field error as a list (documentation type).</summary>
public sealed record FieldProblem(string Type, string Title, int Status, string Detail, string Field, IReadOnlyList<FieldError> Errors);

/// <summary>Declares <see cref="FieldProblem"/> answers on an endpoint.</summary>
public static class FieldProblemEndpointExtensions
{
    public static RouteHandlerBuilder ProducesFieldProblem(this RouteHandlerBuilder builder, int statusCode = StatusCodes.Status422UnprocessableEntity) =>
        builder.Produces<FieldProblem>(statusCode, "application/problem+json");
}
