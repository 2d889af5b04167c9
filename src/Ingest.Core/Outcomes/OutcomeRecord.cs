namespace Ingest.Core.Outcomes;

/// <summary>The kinds of outcome.</summary>
public static class OutcomeTypes
{
    public const string Stage = "stage";
    public const string Deal = "deal";
    public const string Response = "response";
}

/// <summary>Lifecycle stages, in funnel order (<c>disqualified</c> is outside the ladder).</summary>
public static class Stages
{
    public const string Lead = "lead";
    public const string Mql = "mql";
    public const string Sql = "sql";
    public const string Opportunity = "opportunity";
    public const string Customer = "customer";
    public const string Disqualified = "disqualified";

    /// <summary>The funnel ladder: reaching a stage counts as having passed the ones before it.</summary>
    public static IReadOnlyList<string> Ladder { get; } = [Lead, Mql, Sql, Opportunity, Customer];

    /// <summary>
    /// <paramref name="stage"/> and the ladder's stages after it (a lead that reached any of them has reached it);
    /// empty when <paramref name="stage"/> is not on the ladder.
    /// </summary>
    public static IReadOnlyList<string> AtOrAfter(string stage)
    {
        for (var i = 0; i < Ladder.Count; i++)
        {
            if (Ladder[i] == stage)
            {
                return [.. Ladder.Skip(i)];
            }
        }

        return [];
    }

    public static bool IsKnown(string stage) => stage is Lead or Mql or Sql or Opportunity or Customer or Disqualified;
}

/// <summary>The normalized identities of one lead an outcome names (at least one is set).</summary>
public sealed class OutcomeLead
{
    public Guid? LeadId { get; set; }
    public string? Email { get; set; }
    public string? Phone { get; set; }
    public string? ExternalId { get; set; }

    /// <summary>The strongest identity, as a Kafka key (so a person's outcomes share a partition).</summary>
    public string StrongestKey() =>
        LeadId is { } id ? "lead:" + id
        : Email is not null ? "email:" + Email
        : Phone is not null ? "phone:" + Phone
        : "external:" + ExternalId;
}

/// <summary>A validated, normalized outcome as it travels on <c>outcomes.v1</c> (schema version <see cref="SchemaVersion"/>).</summary>
public sealed class OutcomeRecord
{
    public const int SchemaVersion = 1;

    public required string EventId { get; set; }
    public required string Type { get; set; }
    public required DateTimeOffset OccurredAt { get; set; }
    public required DateTimeOffset ReceivedAt { get; set; }

    /// <summary>Which door accepted it: <c>api</c> or <c>hubspot</c>.</summary>
    public required string Door { get; set; }

    public string? SourceSystem { get; set; }

    /// <summary>The leads it concerns: exactly one for stages and responses; every lead on a deal, the primary first.</summary>
    public List<OutcomeLead> Leads { get; set; } = [];

    public string? Owner { get; set; }
    public string? Stage { get; set; }
    public string? DealId { get; set; }
    public decimal? Amount { get; set; }
    public string? Currency { get; set; }
    public string? Status { get; set; }
    public string? Channel { get; set; }
    public string? By { get; set; }
}
