using Ingest.Collector.Problems;
using Ingest.Collector.Reports;
using Ingest.Collector.Security;
using Ingest.Core.Attribution;
using Ingest.Core.Outcomes;
using Ingest.Storage.Attribution;
using Ingest.Storage.Costs;
using Ingest.Storage.Reports;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Ingest.Collector.Attribution;

/// <summary>
/// <c>GET /v1/reports/attribution</c> and <c>GET /v1/leads/{leadId}/attribution</c> (read key): the models of
/// docs/attribution.md side by side, and one lead's credit explained touch by touch. The conversion is the lead's
/// creation or the first time it reached a lifecycle stage (or a later one); the value a count or the lead's share of
/// its won deals.
/// </summary>
public static class AttributionApi
{

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

    private static readonly string[] Kinds = ["form", "call", "ad", "visit", "offline"];

    private const string Parameters = "conversion=lead|mql|sql|opportunity|customer (default lead: the lead's creation, its lead-creation touch's time; a stage: "
        + "the first time the lead reached it or any later stage; opportunity and customer milestones after the conversion count as not reached, their roles missing); "
        + "taxonomy=b2b|ga4 (default b2b: the channels last_non_direct reads and group_by=channel groups by); models= any of first, last, last_non_direct, "
        + "linear, time_decay, u_shaped, w_shaped, full_path (default all); lookback_days (1-3650, default 90); half_life_days (default 7); "
        + "exclude_kinds= any of form, call, ad, visit, offline. The rules, with worked examples: docs/attribution.md.";

    public static IEndpointRouteBuilder MapAttributionApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/reports/attribution", Report)
            .WithTags("Reports")
            .RequireAuthorization(ApiKeyAuthentication.ReadPolicy)
            .WithName("AttributionReport")
            .WithSummary("Conversions credited per group under each attribution model, side by side")
            .WithDescription("from/to (RFC 3339, default the last 30 days) select the conversions (their conversion time); value=count|revenue (default count; revenue: "
                + "each won deal's amount, in its latest state, split equally among its leads, a lead's value the sum of its shares); currency= (ISO 4217, default "
                + "Reports:Currency) converts through Reports:Rates, 400 without a rate for it; deals no rate converts are credited to nobody and counted in unconverted_deals; "
                + "group_by=channel|ga4_channel|source|medium|campaign|source_detail|method (default channel). " + Parameters
                + " Each model's credits add up to total (the number of conversions, or their revenue), to 1e-6.")
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
        Guid leadId, string? conversion, string? taxonomy, string? models, int? lookback_days, double? half_life_days, string? exclude_kinds, JourneyQueries journeys,
        CancellationToken cancellationToken)
    {
        if (Settings(conversion, taxonomy, models, lookback_days, half_life_days, exclude_kinds, out var query) is { } problem)
        {
            return problem;
        }

        if (await journeys.LeadAsync(leadId, query.Conversion, cancellationToken) is not { } journey)
        {
            return ProblemResponses.Problem(StatusCodes.Status404NotFound, ProblemTypes.NotFound,
                $"No lead with this id has reached {query.Conversion} (a visitor has no conversion yet).", "leadId");
        }

        var credit = AttributionModels.Credit(journey.ToJourney(query.Ga4), query.Options, query.Models);
        var rows = journey.Touches.ToDictionary(static t => t.EventId, StringComparer.Ordinal);
        var touches = credit.Credited.Select(c =>
        {
            var row = rows[c.Touch.EventId];
            return new AttributedTouch(row.EventId, row.Kind, row.OccurredAt, row.Channel, row.Ga4Channel, row.Source, row.Medium, row.Campaign,
                RoleNames(c.Roles), c.Weights.ToDictionary(static w => WireNames[w.Key], static w => w.Value), row.SourceDetail, row.Method);
        }).ToList();
        var leftOut = credit.LeftOut.Select(static l => new LeftOutTouchView(l.Touch.EventId, l.Touch.Kind, l.Touch.OccurredAt, l.Reason)).ToList();
        return TypedResults.Ok(new LeadAttribution(journey.LeadId, query.Conversion, query.Taxonomy, journey.ConvertedAt, query.Options.LookbackDays, touches, leftOut));
    }

    public static async Task<Results<Ok<AttributionReport>, ProblemHttpResult>> Report(
        string? from, string? to, string? conversion, string? value, string? currency, string? models, string? group_by, string? taxonomy, int? lookback_days,
        double? half_life_days, string? exclude_kinds, JourneyQueries journeys, CostQueries costs, IOptions<ReportSettings> settings, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (Settings(conversion, taxonomy, models, lookback_days, half_life_days, exclude_kinds, out var query) is { } problem)
        {
            return problem;
        }

        if (ReportQuery.Window(from, to, time, out var start, out var end) is { } badWindow)
        {
            return badWindow;
        }

        var measure = value ?? "count";
        if (measure is not ("count" or "revenue"))
        {
            return Bad("value", "value must be count or revenue.");
        }

        var rates = settings.Value;
        var answerCurrency = rates.Currency.ToUpperInvariant();
        if (currency is not null)
        {
            if (Currencies.Normalize(currency) is not { } code)
            {
                return Bad("currency", "currency must be an ISO 4217 code, e.g. EUR.");
            }

            if (!rates.CanConvertInto(code))
            {
                return Bad("currency", $"No rate converts amounts into {code}: set Reports:Rates:{code} (units of {answerCurrency} per {code}), or ask in "
                    + $"{string.Join(", ", rates.Rates.Keys.Select(static k => k.ToUpperInvariant()).Prepend(answerCurrency).Distinct().Order(StringComparer.Ordinal))}.");
            }

            answerCurrency = code;
        }

        var groupBy = group_by ?? "channel";
        if (!JourneyQueries.GroupColumns.Contains(groupBy))
        {
            return Bad("group_by", "group_by must be one of: channel, ga4_channel, source, medium, campaign, source_detail, method.");
        }

        // taxonomy=ga4 picks the channel last_non_direct reads and group_by=channel groups by, as in the funnel.
        var channelColumn = query.Ga4 ? "ga4_channel" : "channel";
        var revenue = measure == "revenue" ? new RevenueShares(rates, answerCurrency) : null;
        var tally = new AttributionTally(query.Models, query.Options);
        await journeys.ForEachConvertedAsync(query.Conversion, start, end, query.Options.LookbackDays, withDeals: revenue is not null,
            channelColumn, groupColumn: groupBy == "channel" ? channelColumn : groupBy, (IReadOnlyCollection<string>?)query.Options.ExcludedKinds ?? [],
            lead => tally.Add(lead, revenue?.ValueOf(lead.WonDeals) ?? 1), cancellationToken);

        var spend = SpendGroupings.TryGetValue(groupBy, out var grouping)
            ? await costs.SpendAsync(start, end, grouping, rates, cancellationToken, query.Ga4)
            : null;
        var credits = tally.Credits(WireNames);
        if (spend is { Groups.Count: > 0 })
        {
            credits = WithSpend(credits, spend, rates, answerCurrency, revenue is not null);
        }

        return TypedResults.Ok(new AttributionReport(start, end, query.Conversion, measure, revenue is null ? null : answerCurrency, query.Taxonomy, groupBy,
            query.Options.LookbackDays, tally.Conversions, tally.Total, revenue?.UnconvertedDeals, credits,
            spend is null ? null : rates.Convert(spend.Total, rates.Currency, answerCurrency) is { } cost ? Math.Round(cost, 2) : null, spend?.Unconverted));
    }

    // The groupings spend has (spend has no source detail or method).
    private static readonly Dictionary<string, SpendGrouping> SpendGroupings = new(StringComparer.Ordinal)
    {
        ["channel"] = SpendGrouping.Channel,
        ["ga4_channel"] = SpendGrouping.Ga4Channel,
        ["source"] = SpendGrouping.Source,
        ["medium"] = SpendGrouping.Medium,
        ["campaign"] = SpendGrouping.Campaign,
    };

    /// <summary>
    /// Each credit with its group's spend (in the answer's currency), the cost per credited conversion and, for revenue,
    /// the return on it; a group with spend and no credit under a model is listed with credit 0, so spend that bought
    /// nothing shows.
    /// </summary>
    private static Dictionary<string, IReadOnlyList<AttributionCredit>> WithSpend(
        Dictionary<string, IReadOnlyList<AttributionCredit>> credits, Spend spend, ReportSettings rates, string currency, bool revenue)
    {
        var cost = spend.Groups
            .Select(g => (g.Key, Amount: rates.Convert(g.Value, rates.Currency, currency)))
            .Where(static g => g.Amount is > 0)
            .ToDictionary(static g => g.Key, static g => Math.Round(g.Amount!.Value, 2), StringComparer.Ordinal);
        return credits.ToDictionary(m => m.Key, m =>
        {
            var listed = m.Value.Select(c => cost.TryGetValue(c.Group, out var spent)
                ? c with
                {
                    Cost = spent,
                    CostPerConversion = !revenue && c.Credit > 0 ? Math.Round(spent / (decimal)c.Credit, 2) : null,
                    Roas = revenue ? c.Credit / (double)spent : null,
                }
                : c).ToList();
            listed.AddRange(cost.Where(g => m.Value.All(c => c.Group != g.Key))
                .OrderBy(static g => g.Key, StringComparer.Ordinal)
                .Select(g => new AttributionCredit(g.Key, 0, 0, g.Value, null, revenue ? 0 : null)));
            return (IReadOnlyList<AttributionCredit>)listed;
        }, StringComparer.Ordinal);
    }

    /// <summary>What both endpoints were asked: the conversion stage, the taxonomy, the models and the eligibility options.</summary>
    private sealed record AttributionQuery(string Conversion, string Taxonomy, List<AttributionModel> Models, AttributionOptions Options)
    {
        public bool Ga4 => Taxonomy == "ga4";
    }

    /// <summary>The query both endpoints share, or the 400 answer naming the bad parameter.</summary>
    private static ProblemHttpResult? Settings(string? conversion, string? taxonomy, string? models, int? lookbackDays, double? halfLifeDays, string? excludeKinds,
        out AttributionQuery query)
    {
        query = new AttributionQuery(Stages.Lead, "b2b", [.. AttributionModels.All], AttributionOptions.Default);
        var stage = conversion ?? Stages.Lead;
        if (Stages.AtOrAfter(stage).Count == 0)
        {
            return Bad("conversion", $"conversion must be one of: {string.Join(", ", Stages.Ladder)}.");
        }

        if (ReportQuery.Taxonomy(taxonomy, out var ga4) is { } badTaxonomy)
        {
            return badTaxonomy;
        }

        List<AttributionModel> chosen = [.. AttributionModels.All];
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

        query = new AttributionQuery(stage, ga4 ? "ga4" : "b2b", chosen,
            new AttributionOptions(lookbackDays ?? AttributionOptions.Default.LookbackDays, halfLifeDays ?? AttributionOptions.Default.HalfLifeDays, excluded));
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
