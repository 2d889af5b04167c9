namespace Ingest.Storage.Leads;

/// <summary>Resolution chose leads that Postgres has merged into others meanwhile; maps each to its survivor.</summary>
public sealed class StaleResolutionException(Dictionary<Guid, Guid> survivors)
    : Exception($"{survivors.Count} lead(s) chosen by identity resolution were merged meanwhile")
{
    public IReadOnlyDictionary<Guid, Guid> Survivors { get; } = survivors;
}
