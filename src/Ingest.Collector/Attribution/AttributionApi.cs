using Ingest.Collector.Problems;
using Ingest.Collector.Reports;
using Ingest.Collector.Security;
using Ingest.Core.Attribution;
using Ingest.Core.Time;
using Ingest.Storage.Attribution;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ingest.Collector.Attribution;

/// <summary>
/// <c>GET /v1/reports/attribution</c> and <c>GET /v1/leads/{leadId}/attribution</c> (read key): the models of
/// docs/attribution.md side by side, and one lead's credit explained touch by touch. The conversion is the lead's
/// creation; lifecycle stages (mql … customer) and revenue come with the outcomes (issue 14).
/// </summary>
public static class AttributionApi
{
    public const string LeadConversion = "lead";

    private static readonly Dictionary<string, AttributionModel> ModelNames = new(StringComparer.Ordinal)
    {
        ["first"] = AttributionModel.First,
        ["last"] = AttributionModel.Last,
        ["last_non_direct"] = AttributionModel.LastNonDirect,
        ["linear"] = AttributionModel.Linear,
        ["time_decay"] = AttributionModel.TimeDecay,
        ["u_shaped"] = AttributionModel.UShaped,
        ["w_shaped"] = AttributionModel.WShaped,
        ["full_path"] = AttributionModel.FullPath,
    };

    private static readonly Dictionary<AttributionModel, string> WireNames = ModelNames.ToDictionary(static p => p.Value, static p => p.Key);

    private static readonly Dictionary<string, Func<JourneyTouchRow, string?>> Groups = new(StringComparer.Ordinal)
    {
        ["channel"] = static t => t.Channel,
        ["ga4_channel"] = static t => t.Ga4Channel,
        ["source"] = static t => t.Source,
        ["medium"] = static t => t.Medium,
        ["campaign"] = static t => t.Campaign,
    };

    private static readonly string[] Kinds = ["form", "call", "ad", "visit"];

    private const string Parameters = "conversion=lead (the lead's creation; lifecycle stages come with outcomes); models= any of first, last, last_non_direct, "
        + "linear, time_decay, u_shaped, w_shaped, full_path (default all); lookback_days (1-3650, default 90); half_life_days (default 7); "
        + "exclude_kinds= any of form, call, ad, visit. The rules, with worked examples: docs/attribution.md.";

    public static IEndpointRouteBuilder MapAttributionApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/reports/attribution", Report)
            .WithTags("Reports")
            .RequireAuthorization(ApiKeyAuthentication.ReadPolicy)
            .WithName("AttributionReport")
            .WithSummary("Conversions credited per group under each attribution model, side by side")
            .WithDescription("from/to (RFC 3339, default the last 30 days) select the conversions; value=count; group_by=channel|ga4_channel|source|medium|campaign "
                + "(default channel). " + Parameters + " Each model's credits add up to the number of conversions.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        app.MapGet("/v1/leads/{leadId:guid}/attribution", Lead)
            .WithTags("Leads")
            .RequireAuthorization(ApiKeyAuthentication.ReadPolicy)
            .WithName("LeadAttribution")
            .WithSummary("Why each touch of a lead got its credit: roles and weights under each model, and the touches left out")
            .WithDescription(Parameters + " A visitor (no conversion yet) is 404.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Results<Ok<LeadAttribution>, ProblemHttpResult>> Lead(
        Guid leadId, string? conversion, string? models, int? lookback_days, double? half_life_days, string? exclude_kinds, JourneyQueries journeys,
        CancellationToken cancellationToken)
    {
        if (Settings(conversion, models, lookback_days, half_life_days, exclude_kinds, out var chosen, out var options) is { } problem)
        {
            return problem;
        }

        if (await journeys.LeadAsync(leadId, cancellationToken) is not { } journey)
        {
            return ProblemResponses.Problem(StatusCodes.Status404NotFound, ProblemTypes.NotFound, "No lead with a conversion has this id (a visitor has none yet).", "leadId");
        }

        var credit = AttributionModels.Credit(journey.ToJourney(), options, chosen);
        var rows = journey.Touches.ToDictionary(static t => t.EventId, StringComparer.Ordinal);
        var touches = credit.Credited.Select(c =>
        {
            var row = rows[c.Touch.EventId];
            return new AttributedTouch(row.EventId, row.Kind, row.OccurredAt, row.Channel, row.Ga4Channel, row.Source, row.Medium, row.Campaign,
                RoleNames(c.Roles), c.Weights.ToDictionary(static w => WireNames[w.Key], static w => w.Value));
        }).ToList();
        var leftOut = credit.LeftOut.Select(static l => new LeftOutTouchView(l.Touch.EventId, l.Touch.Kind, l.Touch.OccurredAt, l.Reason)).ToList();
        return TypedResults.Ok(new LeadAttribution(journey.LeadId, LeadConversion, journey.ConvertedAt, options.LookbackDays, touches, leftOut));
    }

    public static async Task<Results<Ok<AttributionReport>, ProblemHttpResult>> Report(
        string? from, string? to, string? conversion, string? value, string? models, string? group_by, int? lookback_days, double? half_life_days,
        string? exclude_kinds, JourneyQueries journeys, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Settings(conversion, models, lookback_days, half_life_days, exclude_kinds, out var chosen, out var options) is { } problem)
        {
            return problem;
        }

        if (ReportQuery.Window(from, to, time, out var start, out var end) is { } badWindow)
        {
            return badWindow;
        }

        if ((value ?? "count") != "count")
        {
            return Bad("value", "value=count is the only value until deals are stored (revenue comes with outcomes).");
        }

        var groupBy = group_by ?? "channel";
        if (!Groups.TryGetValue(groupBy, out var groupOf))
        {
            return Bad("group_by", "group_by must be one of: channel, ga4_channel, source, medium, campaign.");
        }

        var tally = new AttributionTally(chosen, options, groupOf);
        await foreach (var journey in journeys.CreatedAsync(start, end, options.LookbackDays, cancellationToken))
        {
            tally.Add(journey);
        }

        return TypedResults.Ok(new AttributionReport(start, end, LeadConversion, "count", groupBy, options.LookbackDays, tally.Conversions, tally.Credits(WireNames)));
    }

    /// <summary>The models and options asked for, or the 400 answer naming the bad parameter.</summary>
    private static ProblemHttpResult? Settings(string? conversion, string? models, int? lookbackDays, double? halfLifeDays, string? excludeKinds,
        out List<AttributionModel> chosen, out AttributionOptions options)
    {
        chosen = [.. AttributionModels.All];
        options = AttributionOptions.Default;
        if ((conversion ?? LeadConversion) != LeadConversion)
        {
            return Bad("conversion", "conversion=lead is the only conversion until lifecycle stages are stored (mql … customer come with outcomes).");
        }

        if (!string.IsNullOrWhiteSpace(models))
        {
            chosen = [];
            foreach (var name in models.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!ModelNames.TryGetValue(name, out var model))
                {
                    return Bad("models", $"Unknown model '{Truncate(name)}'; models are: {string.Join(", ", ModelNames.Keys)}.");
                }

                chosen.Add(model);
            }
        }

        if (lookbackDays is < 1 or > 3650)
        {
            return Bad("lookback_days", "lookback_days must be between 1 and 3650.");
        }

        if (halfLifeDays is { } h && (!double.IsFinite(h) || h <= 0 || h > 3650))
        {
            return Bad("half_life_days", "half_life_days must be a positive number of days (at most 3650).");
        }

        HashSet<string>? excluded = null;
        if (!string.IsNullOrWhiteSpace(excludeKinds))
        {
            excluded = [];
            foreach (var kind in excludeKinds.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (Array.IndexOf(Kinds, kind) < 0)
                {
                    return Bad("exclude_kinds", $"Unknown kind '{Truncate(kind)}'; kinds are: {string.Join(", ", Kinds)}.");
                }

                excluded.Add(kind);
            }
        }

        options = new AttributionOptions(lookbackDays ?? AttributionOptions.Default.LookbackDays, halfLifeDays ?? AttributionOptions.Default.HalfLifeDays, excluded);
        return null;
    }

    private static readonly (TouchRoles Role, string Name)[] RoleWireNames =
    [
        (TouchRoles.First, "first"), (TouchRoles.LeadCreation, "lead_creation"), (TouchRoles.OpportunityCreation, "opportunity_creation"),
        (TouchRoles.Close, "close"), (TouchRoles.Last, "last"),
    ];

    private static List<string> RoleNames(TouchRoles roles) => RoleWireNames.Where(r => roles.HasFlag(r.Role)).Select(static r => r.Name).ToList();

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "…";

    private static ProblemHttpResult Bad(string field, string detail) => ReportQuery.Bad(field, detail);
}
