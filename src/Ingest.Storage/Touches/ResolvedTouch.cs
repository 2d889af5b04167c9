using Ingest.Core.Touches;

namespace Ingest.Storage.Touches;

/// <summary>A touch with the lead identity resolution chose for it, and its serialized record for the jsonb column.</summary>
public sealed record ResolvedTouch(TouchRecord Record, Guid LeadId, byte[] RecordJson);

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

/// <summary>What a stored batch changed: touches inserted (not duplicates), and the identity owners Postgres settled on.</summary>
public sealed record StoredBatch(int Inserted, int Duplicates, IReadOnlyDictionary<IdentityKey, Guid> Owners, IReadOnlyList<(Guid Merged, Guid Survivor)> Merges);
