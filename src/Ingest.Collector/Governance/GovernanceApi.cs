using System.Security.Claims;
using Ingest.Collector.Http;
using Ingest.Collector.Problems;
using Ingest.Collector.Reports;
using Ingest.Collector.Security;
using Ingest.Core.Governance;
using Ingest.Core.Serialization;
using Ingest.Core.Time;
using Ingest.Core.Touches;
using Ingest.Storage.Governance;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ingest.Collector.Governance;

/// <summary>
/// <c>POST /v1/governance/preview</c>: what governance makes of a link before a campaign launches (read key);
/// <c>POST /v1/governance/reclassify</c>: the stored touches under the current rules (read key: dry run; server key: apply).
/// </summary>
public static partial class GovernanceApi
{
    private const int MaxPreviewBytes = 32 * 1024;

    public static IEndpointRouteBuilder MapGovernanceApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/governance")
            .WithTags("Governance")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        group.MapPost("/preview", Preview)
            .RequireAuthorization(ApiKeyAuthentication.ReadPolicy)
            .WithName("PreviewGovernance")
            .WithSummary("Normalize and classify a URL or a set of UTM fields")
            .WithDescription("Answers the raw and normalized values, click id and network, referrer class, the configured channel, the GA4 channel and every violation. Nothing is stored.")
            .Accepts<TouchPayload>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesFieldProblem();

        group.MapPost("/reclassify", Reclassify)
            .RequireAuthorization(ApiKeyAuthentication.ReadOrServerPolicy)
            .WithName("ReclassifyTouches")
            .WithSummary("Recompute the stored touches' governed values and channels under the rules in force: the difference, or the rewrite")
            .WithDescription("Each stored touch's raw values (its record) go through the governance engine again, exactly as at the door. dry_run=true (default; read or server key) answers the difference and changes nothing: "
                + "touches whose governed values change, touches that only get the rules_version stamped, leads whose first, latest or lead-creation channel changes, and the scanned touches per channel before and after. "
                + "dry_run=false (server key only; a read key gets 403) rewrites them in batches of 1,000 by event id, each one short statement (rows locked with skip locked: ingestion never waits on more than one, rows others hold are retried, then counted as skipped), "
                + "stamps rules_version on every touch it governed, then updates the channel copies of the leads whose copies differ; it answers the same figures and batches. "
                + "One call walks at most limit event ids (default and most 50,000) in order; when more remain, next is the event id to pass as after. "
                + "from/to (RFC 3339) choose, among them, the touches that occurred in the window (touches_scanned counts those).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    public static async Task<Results<Ok<GovernanceResult>, ProblemHttpResult>> Preview(
        HttpContext http, IGovernanceEvaluator governance, CancellationToken cancellationToken)
    {
        var (payload, problem) = await RequestBody.ReadJsonAsync(http.Request, MaxPreviewBytes, IngestJsonContext.Default.TouchPayload, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var input = TouchBuilder.GovernanceInputOf(payload!, payload!.Kind?.Trim().Equals("call", StringComparison.OrdinalIgnoreCase) == true);
        if (input.PageUrl is null && input.Referrer is null && input.UtmSource is null && input.UtmMedium is null && input.UtmCampaign is null
            && input.UtmTerm is null && input.UtmContent is null && input.UtmId is null && input.ClickIds is null)
        {
            return ProblemResponses.Validation([new FieldError("page_url", "nothing_to_preview",
                "Send at least a page_url, a referrer, a utm_* field or a click id.")]);
        }

        return TypedResults.Ok(governance.Evaluate(input));
    }

    public static async Task<Results<Ok<ReclassifyReport>, ProblemHttpResult>> Reclassify(
        string? dry_run, string? from, string? to, string? after, string? limit, HttpContext http, TouchReclassifier reclassifier, GovernanceRulesProvider rules,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        bool? dryRun = dry_run?.Trim().ToLowerInvariant() switch
        {
            null or "true" or "1" => true,
            "false" or "0" => false,
            _ => null,
        };
        if (dryRun is null)
        {
            return ReportQuery.Bad("dry_run", "dry_run must be true or false.");
        }

        if (dryRun == false && !http.User.IsInRole(ApiKeyAuthentication.ServerRole))
        {
            return ProblemResponses.Problem(StatusCodes.Status403Forbidden, ProblemTypes.Forbidden,
                "Only a server key applies a reclassification; a read key may dry-run it (dry_run=true).", "Authorization");
        }

        DateTimeOffset? start = null, end = null;
        if (from is not null)
        {
            if (!Rfc3339.TryParse(from, out var parsed))
            {
                return ReportQuery.Bad("from", "from must be an RFC 3339 timestamp, e.g. 2026-11-01T00:00:00Z.");
            }

            start = parsed;
        }

        if (to is not null)
        {
            if (!Rfc3339.TryParse(to, out var parsed))
            {
                return ReportQuery.Bad("to", "to must be an RFC 3339 timestamp, e.g. 2026-12-01T00:00:00Z.");
            }

            end = parsed;
        }

        if (start >= end)
        {
            return ReportQuery.Bad("to", "to must be after from.");
        }

        // Postgres refuses a NUL in a text parameter: an event id is printable, without spaces, as the door checks it.
        if (after is not null && (after.Length is 0 or > TouchRecord.MaxEventIdLength || after.AsSpan().ContainsAnyInRange('\0', ' ')))
        {
            return ReportQuery.Bad("after", $"after must be the next of a previous answer (an event id: 1-{TouchRecord.MaxEventIdLength} printable characters without spaces).");
        }

        var most = TouchReclassifier.MaxTouchesPerCall;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out most)
                                  || most is < 1 or > TouchReclassifier.MaxTouchesPerCall))
        {
            return ReportQuery.Bad("limit", $"limit must be a whole number from 1 to {TouchReclassifier.MaxTouchesPerCall}.");
        }

        // One set of rules for the whole call, even if the file is reloaded meanwhile.
        var current = rules.Current;
        if (dryRun == false)
        {
            LogApplying(loggers.CreateLogger("Ingest.Governance"), http.User.FindFirstValue(ApiKeyAuthentication.KeyIdClaim) ?? "", current.VersionStamp);
        }

        return TypedResults.Ok(await reclassifier.RunAsync(current, new ReclassifyScope(start, end, after, most), apply: dryRun == false, cancellationToken));
    }

    [LoggerMessage(EventId = 1701, Level = LogLevel.Information, Message = "Reclassification applied by key {KeyId} under rules {RulesVersion}")]
    private static partial void LogApplying(ILogger logger, string keyId, string rulesVersion);
}
