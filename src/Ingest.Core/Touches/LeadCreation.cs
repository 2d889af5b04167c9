namespace Ingest.Core.Touches;

/// <summary>
/// When a history becomes a lead. Visits alone make a <em>visitor</em>; the first touch that is a conversion (a form, a
/// call, an ad lead) or that carries a personal identity (email, phone, external id) makes the visitor a lead, and is the
/// lead's <em>lead-creation touch</em>. The first touch stays the earliest touch of all, visits included.
/// </summary>
public static class LeadCreation
{
    /// <summary>Whether <paramref name="record"/> makes its history a lead.</summary>
    public static bool CreatesLead(TouchRecord record) =>
        record.Kind != TouchKind.Visit
        || record.Identities.Email is not null
        || record.Identities.Phone is not null
        || record.Identities.ExternalId is not null;

    /// <summary>
    /// <see cref="CreatesLead"/> over a stored touch row aliased <c>t</c> (its kind column and its record's identities),
    /// for the statements that recompute a lead from its rows.
    /// </summary>
    public const string CreatesLeadSql =
        "(t.kind <> 'visit' or coalesce(t.record->'identities'->>'email', t.record->'identities'->>'phone', t.record->'identities'->>'external_id') is not null)";
}
