using Ingest.Core.Touches;

namespace Ingest.Storage.Touches;

/// <summary>
/// A touch on its way to Postgres: the record, its bytes as they came from Kafka (stored as the jsonb record), its
/// identity keys (computed once) and the lead identity resolution chose for it.
/// </summary>
public sealed class ResolvedTouch(TouchRecord record, byte[] recordJson)
{
    public TouchRecord Record { get; } = record;
    public byte[] RecordJson { get; } = recordJson;
    public IReadOnlyList<IdentityKey> Keys { get; } = IdentityKey.Of(record);

    /// <summary>Set by identity resolution; the writer may move the touch to a lead this one was merged into.</summary>
    public Guid LeadId { get; set; }

    /// <summary>What resolution knew of each key (parallel to <see cref="Keys"/>); unset means verify them all.</summary>
    public KeyState[]? KeyStates { get; set; }

    /// <summary>The state of key <paramref name="index"/>.</summary>
    public KeyState StateOf(int index) => KeyStates is { } states ? states[index] : KeyState.Pending;
}

/// <summary>What identity resolution knew of a key before a touch: it decides how much the writer checks in Postgres.</summary>
public enum KeyState : byte
{
    /// <summary>Owned by the resolved lead (or one merged into it) and confirmed by a committed batch: nothing to check.</summary>
    Confirmed,

    /// <summary>Assigned by a resolution not confirmed yet, or moved by a merge: Postgres decides its owner.</summary>
    Pending,

    /// <summary>Known to neither Redis nor Postgres when resolved: inserted as is (a conflict means a concurrent writer).</summary>
    New,
}

/// <summary>One identity key of a lead: kind (<c>email</c>, <c>phone</c>, <c>anonymous_id</c>, <c>external_id</c>, <c>click_id</c>) and value.</summary>
public readonly record struct IdentityKey(string Kind, string Value)
{
    public override string ToString() => Kind + ":" + Value;

    /// <summary>The normalized identity keys of a touch.</summary>
    public static List<IdentityKey> Of(TouchRecord record)
    {
        var keys = new List<IdentityKey>(4);
        var ids = record.Identities;
        if (ids.Email is { } email)
        {
            keys.Add(new IdentityKey("email", email));
        }

        if (ids.Phone is { } phone)
        {
            keys.Add(new IdentityKey("phone", phone));
        }

        if (ids.ExternalId is { } external)
        {
            keys.Add(new IdentityKey("external_id", external));
        }

        if (ids.AnonymousId is { } anonymous)
        {
            keys.Add(new IdentityKey("anonymous_id", anonymous));
        }

        if (record.Attribution.ClickId is { } click)
        {
            keys.Add(new IdentityKey("click_id", click));
        }

        return keys;
    }
}

/// <summary>An identity key the committed batch stored or verified: the lead resolution proposed and the owner Postgres settled on.</summary>
public readonly record struct ConfirmedKey(IdentityKey Key, Guid Proposed, Guid Owner);

/// <summary>
/// What a stored batch changed: touches inserted (not duplicates); the identity keys it stored or verified, for Redis
/// to mark confirmed; and the leads merged, each with its survivor.
/// </summary>
public sealed record StoredBatch(int Inserted, int Duplicates, IReadOnlyList<ConfirmedKey> Confirmed, IReadOnlyList<(Guid Merged, Guid Survivor)> Merges)
{
    public static StoredBatch OnlyDuplicates(int count) => new(0, count, [], []);
}
