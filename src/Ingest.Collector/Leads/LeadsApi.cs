using Ingest.Collector.Problems;
using Ingest.Collector.Security;
using Ingest.Core.Identity;
using Ingest.Storage.Leads;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ingest.Collector.Leads;

/// <summary><c>GET /v1/leads/{leadId}</c> and <c>GET /v1/leads?email=…|phone=…|anonymous_id=…</c> (read key).</summary>
public static class LeadsApi
{
    public static IEndpointRouteBuilder MapLeadsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/leads")
            .WithTags("Leads")
            .RequireAuthorization(ApiKeyAuthentication.ReadPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapGet("/{leadId:guid}", GetLead)
            .WithName("GetLead")
            .WithSummary("A lead with its original and latest source and its timeline")
            .WithDescription("A merged lead id answers with the lead it was merged into. The timeline is paged oldest first: `limit` touches "
                + "(default 100, at most 1000) after `cursor`, the `next_cursor` of the previous page (null on the last page).")
            .ProducesProblem(StatusCodes.Status400BadRequest);

        group.MapGet("/", FindLead)
            .WithName("FindLead")
            .WithSummary("The lead an identity resolves to")
            .WithDescription("Exactly one of email, phone, anonymous_id or external_id; values are normalized as at ingestion (email lower-cased, phone to E.164).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    public static async Task<Results<Ok<LeadView>, ProblemHttpResult>> GetLead(Guid leadId, int? limit, string? cursor, LeadQueries queries,
        CancellationToken cancellationToken)
    {
        if (TimelinePageProblem(limit, cursor, out var page) is { } problem)
        {
            return problem;
        }

        return await queries.GetLeadAsync(leadId, page, cancellationToken) is { } lead
            ? TypedResults.Ok(lead)
            : ProblemResponses.Problem(StatusCodes.Status404NotFound, ProblemTypes.NotFound, "No lead has this id.", "leadId");
    }

    public static async Task<Results<Ok<LeadView>, ProblemHttpResult>> FindLead(
        string? email, string? phone, string? anonymous_id, string? external_id, int? limit, string? cursor, LeadQueries queries, IdentityNormalizer normalizer,
        CancellationToken cancellationToken)
    {
        if (TimelinePageProblem(limit, cursor, out var page) is { } problem)
        {
            return problem;
        }

        var given = new[] { ("email", email), ("phone", phone), ("anonymous_id", anonymous_id), ("external_id", external_id) }
            .Where(static p => !string.IsNullOrWhiteSpace(p.Item2)).ToList();
        if (given.Count != 1)
        {
            return ProblemResponses.Problem(StatusCodes.Status400BadRequest, ProblemTypes.BadQuery,
                "Give exactly one of email, phone, anonymous_id or external_id.", "email");
        }

        var (kind, raw) = given[0];
        if (raw.AsSpan().ContainsAnyInRange('\0', '\u001f'))
        {
            // No stored identity holds a control character (and Postgres refuses a NUL in a text parameter).
            return ProblemResponses.Problem(StatusCodes.Status400BadRequest, ProblemTypes.BadQuery, $"{kind} may not hold control characters.", kind);
        }

        var value = kind switch
        {
            "email" => IdentityNormalizer.NormalizeEmail(raw),
            "phone" => normalizer.NormalizePhone(raw),
            _ => IdentityNormalizer.NormalizeOpaqueId(raw),
        };
        if (value is null)
        {
            return ProblemResponses.Problem(StatusCodes.Status400BadRequest, ProblemTypes.BadQuery, $"{kind} is not a valid value.", kind);
        }

        var leadId = await queries.FindByIdentityAsync(kind, value, cancellationToken);
        return leadId is { } id && await queries.GetLeadAsync(id, page, cancellationToken) is { } lead
            ? TypedResults.Ok(lead)
            : ProblemResponses.Problem(StatusCodes.Status404NotFound, ProblemTypes.NotFound, $"No lead is known by this {kind}.", kind);
    }

    /// <summary>The timeline page asked for by <c>limit</c> and <c>cursor</c>, or the 400 answer naming the bad one.</summary>
    private static ProblemHttpResult? TimelinePageProblem(int? limit, string? cursor, out TimelinePage page)
    {
        page = TimelinePage.First;
        if (limit is < 1 or > TimelinePage.MaxLimit)
        {
            return ProblemResponses.Problem(StatusCodes.Status400BadRequest, ProblemTypes.BadQuery,
                $"limit must be between 1 and {TimelinePage.MaxLimit}.", "limit");
        }

        TimelineCursor? after = null;
        if (cursor is not null)
        {
            if (!TimelineCursor.TryParse(cursor, out var parsed))
            {
                return ProblemResponses.Problem(StatusCodes.Status400BadRequest, ProblemTypes.BadQuery,
                    "cursor is not a next_cursor this API returned.", "cursor");
            }

            after = parsed;
        }

        page = new TimelinePage(limit ?? TimelinePage.DefaultLimit, after);
        return null;
    }
}
