using System.Globalization;
using Ingest.Collector.Uploads;
using Ingest.Core.Governance;
using Ingest.Core.Outcomes;
using Ingest.Core.Touches;
using Ingest.Storage.Costs;

namespace Ingest.Collector.Costs;

/// <summary>
/// Daily spend in: each row validated on its own, its source, medium and campaign normalized and classified by the same
/// governance rules as touches (so "Google / CPC" lands on google / paid_search), then every good row stored in one
/// statement, idempotent per (day, source, medium, campaign).
/// </summary>
public sealed partial class CostIntake(IGovernanceEvaluator governance, CostWriter writer, TimeProvider time, ILogger<CostIntake> logger)
{
    /// <summary>The columns of a cost row (the CSV header names them all; campaign may be blank).</summary>
    public static readonly string[] Columns = ["date", "source", "medium", "campaign", "amount", "currency"];

    private static readonly DateOnly Earliest = new(2000, 1, 1);

    /// <summary>Stores the good rows of an upload and answers every row.</summary>
    public async Task<UploadRowResult?[]> StoreAsync(IReadOnlyList<UploadRecord> records, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var (good, results) = UploadRows.Map(records, record => Parse(record, today));

        // Two rows of one upload for the same key contradict each other: the later one is kept, the earlier answered.
        var last = new Dictionary<(DateOnly, string, string, string), int>();
        foreach (var (index, row) in good)
        {
            if (last.TryGetValue(Key(row), out var earlier))
            {
                results[earlier] = UploadRows.Reject(records[earlier], [new FieldError("row", "duplicate_key",
                    $"Row {records[index].Row} sets the same date, source, medium and campaign later in this upload; the later row is kept.")]);
            }

            last[Key(row)] = index;
        }

        var kept = good.Where(g => last[Key(g.Value)] == g.Index).ToList();
        var replaced = await writer.UpsertAsync([.. kept.Select(static g => g.Value)], cancellationToken);
        for (var j = 0; j < kept.Count; j++)
        {
            var (index, row) = kept[j];
            results[index] = new UploadRowResult(records[index].Row, records[index].Line, replaced[j] ? "replaced" : "stored",
                Cost: new StoredCost(row.Day, row.Source, row.Medium, row.Campaign.Length == 0 ? null : row.Campaign, row.Channel));
        }

        LogUpload(logger, kept.Count, replaced.Count(static r => r), records.Count - kept.Count);
        return results;

        static (DateOnly, string, string, string) Key(CostRow row) => (row.Day, row.Source, row.Medium, row.Campaign);
    }

    private (CostRow? Row, IReadOnlyList<FieldError> Errors) Parse(UploadRecord record, DateOnly today)
    {
        var errors = new List<FieldError>();
        var day = default(DateOnly);
        if (record["date"] is not { } dateText)
        {
            errors.Add(new FieldError("date", "missing_date", "date is required: the UTC day of the spend, e.g. 2026-11-02."));
        }
        else if (!DateOnly.TryParseExact(dateText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day))
        {
            errors.Add(new FieldError("date", "invalid_date", "date must be a day as yyyy-MM-dd, e.g. 2026-11-02."));
        }
        else if (day > today.AddDays(1) || day < Earliest)
        {
            errors.Add(new FieldError("date", day < Earliest ? "date_too_old" : "date_in_future", $"date must be between {Earliest:yyyy-MM-dd} and tomorrow (UTC)."));
        }

        var governed = governance.Evaluate(new GovernanceInput { UtmSource = record["source"], UtmMedium = record["medium"], UtmCampaign = record["campaign"] });
        if (governed.Source is null)
        {
            errors.Add(new FieldError("source", "missing_source", "source is required (as utm_source would carry it, e.g. google)."));
        }

        if (governed.Medium is null)
        {
            errors.Add(new FieldError("medium", "missing_medium", "medium is required (as utm_medium would carry it, e.g. cpc)."));
        }

        var amount = 0m;
        if (record["amount"] is not { } amountText)
        {
            errors.Add(new FieldError("amount", "missing_amount", "amount is required: the day's spend, e.g. 120.50."));
        }
        else if (!decimal.TryParse(amountText, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out amount) || amount >= 1e14m)
        {
            errors.Add(new FieldError("amount", "invalid_amount", "amount must be a number with a decimal point, e.g. 120.50 (no thousands separators)."));
        }
        else if (amount < 0)
        {
            errors.Add(new FieldError("amount", "negative_amount", "amount must not be negative."));
        }

        var currency = Currencies.Normalize(record["currency"]);
        if (currency is null)
        {
            errors.Add(new FieldError("currency", record["currency"] is null ? "missing_currency" : "invalid_currency", "currency must be an ISO 4217 code such as USD or EUR."));
        }

        return errors.Count > 0 ? (null, errors)
            : (new CostRow(day, governed.Source!, governed.Medium!, governed.Campaign ?? "", amount, currency!, governed.Channel, governed.Ga4Channel,
                governed.Raw.Source, governed.Raw.Medium, governed.Raw.Campaign, governed.RulesVersion ?? ""), []);
    }

    [LoggerMessage(EventId = 1650, EventName = "CostsUploaded", Level = LogLevel.Information, Message = "Costs uploaded: {Stored} rows stored ({Replaced} replacing an earlier amount), {Rejected} rejected")]
    private static partial void LogUpload(ILogger logger, int stored, int replaced, int rejected);
}
