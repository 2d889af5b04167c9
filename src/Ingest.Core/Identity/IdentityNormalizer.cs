using PhoneNumbers;

namespace Ingest.Core.Identity;

/// <summary>Normalizes identity keys so the same person always maps to the same key.</summary>
public sealed class IdentityNormalizer(string defaultRegion = "US")
{
    private static readonly PhoneNumberUtil Phones = PhoneNumberUtil.GetInstance();

    /// <summary>Region assumed for phone numbers written without a country code.</summary>
    public string DefaultRegion { get; } = defaultRegion;

    /// <summary>Trimmed and lowercased; null when blank or not an address.</summary>
    public static string? NormalizeEmail(string? email)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            return null;
        }

        var trimmed = email.AsSpan().Trim();
        var at = trimmed.IndexOf('@');
        if (at <= 0 || at == trimmed.Length - 1 || trimmed.LastIndexOf('@') != at || trimmed.ContainsAny(" \t\r\n"))
        {
            return null;
        }

        return trimmed.ToString().ToLowerInvariant();
    }

    /// <summary>E.164 (<c>+14155550100</c>); null when the number cannot be parsed as a possible number.</summary>
    public string? NormalizePhone(string? phone)
    {
        if (string.IsNullOrWhiteSpace(phone))
        {
            return null;
        }

        try
        {
            var parsed = Phones.Parse(phone, DefaultRegion);
            return Phones.IsPossibleNumber(parsed) ? Phones.Format(parsed, PhoneNumberFormat.E164) : null;
        }
        catch (NumberParseException)
        {
            return null;
        }
    }

    /// <summary>Opaque ids are kept verbatim, only trimmed; null when blank.</summary>
    public static string? NormalizeOpaqueId(string? id) =>
        string.IsNullOrWhiteSpace(id) ? null : id.Trim();
}
