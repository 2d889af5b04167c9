using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Ingest.Storage.Costs;

/// <summary>One day's spend on one governed source, medium and campaign (<c>""</c> when none), as stored.</summary>
public sealed record CostRow(
    DateOnly Day, string Source, string Medium, string Campaign, decimal Amount, string Currency, string Channel, string Ga4Channel,
    string? RawSource, string? RawMedium, string? RawCampaign, string RulesVersion);

/// <summary>Writes daily spend: one statement per upload, idempotent per (day, source, medium, campaign), a re-post replacing the amount.</summary>
public sealed partial class CostWriter(NpgsqlDataSource dataSource, ILogger<CostWriter> logger)
{
    /// <summary>
    /// Inserts or replaces <paramref name="rows"/>, whose keys must be distinct (one statement cannot update a row twice);
    /// answers per row whether it replaced an amount stored before.
    /// </summary>
    public async Task<bool[]> UpsertAsync(IReadOnlyList<CostRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return [];
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            insert into costs as c (day, source, medium, campaign, amount, currency, channel, ga4_channel, raw, rules_version)
            select r.day, r.source, r.medium, r.campaign, r.amount, r.currency, r.channel, r.ga4_channel,
                   jsonb_strip_nulls(jsonb_build_object('source', r.raw_source, 'medium', r.raw_medium, 'campaign', r.raw_campaign)), r.rules_version
            from unnest($1::date[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
                 as r(day, source, medium, campaign, amount, currency, channel, ga4_channel, raw_source, raw_medium, raw_campaign, rules_version)
            on conflict (day, source, medium, campaign) do update
            set amount = excluded.amount, currency = excluded.currency, channel = excluded.channel, ga4_channel = excluded.ga4_channel,
                raw = excluded.raw, rules_version = excluded.rules_version, updated_at = now()
            returning c.day, c.source, c.medium, c.campaign, c.xmax <> 0
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(static r => r.Day).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Date });
        Add(static r => r.Source);
        Add(static r => r.Medium);
        Add(static r => r.Campaign);
        command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(static r => r.Amount).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Numeric });
        Add(static r => r.Currency);
        Add(static r => r.Channel);
        Add(static r => r.Ga4Channel);
        Add(static r => r.RawSource);
        Add(static r => r.RawMedium);
        Add(static r => r.RawCampaign);
        Add(static r => r.RulesVersion);

        var replaced = new Dictionary<(DateOnly, string, string, string), bool>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                replaced[(reader.GetFieldValue<DateOnly>(0), reader.GetString(1), reader.GetString(2), reader.GetString(3))] = reader.GetBoolean(4);
            }
        }

        var answers = rows.Select(r => replaced[(r.Day, r.Source, r.Medium, r.Campaign)]).ToArray();
        LogStored(logger, answers.Count(static r => !r), answers.Count(static r => r));
        return answers;

        void Add(Func<CostRow, string?> column) =>
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(column).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
    }

    [LoggerMessage(EventId = 4650, EventName = "CostsStored", Level = LogLevel.Debug, Message = "Costs stored: {Inserted} new, {Replaced} replaced")]
    private static partial void LogStored(ILogger logger, int inserted, int replaced);
}
