using System.Buffers;
using System.Collections.Frozen;

namespace Ingest.Core.Governance;

/// <summary>Cleans one UTM value: trims, removes control characters, lowercases, truncates and applies aliases, noting each change as a violation.</summary>
internal static class UtmValueCleaner
{
    /// <summary>How much of a value a violation message quotes.</summary>
    private const int MessageValueLength = 60;

    /// <summary>Values up to this length are cleaned on the stack.</summary>
    private const int StackBufferLength = 512;

    private static readonly SearchValues<char> NeedsWork = SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000a\u000b\u000c\u000d\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\u007f");

    public static string? Normalize(string? raw, string field, GovernanceRules r, ref List<GovernanceViolation>? violations,
        FrozenDictionary<string, string>? aliases, string? aliasCode)
    {
        var value = Clean(raw, field, r.MaxValueLength, ref violations, lowercase: true);
        if (value is null || aliases is null)
        {
            return value;
        }

        if (aliases.TryGetValue(value, out var canonical))
        {
            (violations ??= []).Add(new GovernanceViolation(aliasCode!, $"{field} '{Truncate(value)}' is an alias; use '{canonical}'.", field));
            return canonical;
        }

        return value;
    }

    /// <summary>Trims, removes control characters, lowercases and truncates; returns the input itself when it is already clean.</summary>
    public static string? Clean(string? raw, string field, int maxLength, ref List<GovernanceViolation>? violations, bool lowercase)
    {
        if (raw is null)
        {
            return null;
        }

        var span = raw.AsSpan();
        var trimmed = span.Trim();
        if (trimmed.IsEmpty)
        {
            return null;
        }

        // Non-ASCII text takes the slow path too: "Émail" must be lower-cased like "ÉMAIL" (the fast check only knows ASCII).
        var needsWork = lowercase ? trimmed.ContainsAny(NeedsWork) || !System.Text.Ascii.IsValid(trimmed) : trimmed.ContainsAnyInRange('\0', '\u001f');
        if (!needsWork && trimmed.Length == span.Length && trimmed.Length <= maxLength)
        {
            return raw;
        }

        Span<char> buffer = trimmed.Length <= StackBufferLength ? stackalloc char[trimmed.Length] : new char[trimmed.Length];
        var length = 0;
        var removedControl = false;
        var mixedCase = false;
        foreach (var ch in trimmed)
        {
            if (char.IsControl(ch))
            {
                removedControl = true;
                continue;
            }

            if (lowercase && char.IsUpper(ch))
            {
                mixedCase = true;
                buffer[length++] = char.ToLowerInvariant(ch);
            }
            else
            {
                buffer[length++] = ch;
            }
        }

        var result = buffer[..length].Trim();
        if (removedControl)
        {
            (violations ??= []).Add(new GovernanceViolation(ViolationCodes.ControlCharacters, $"{field} contained control characters; they were removed.", field));
        }

        if (mixedCase)
        {
            (violations ??= []).Add(new GovernanceViolation(ViolationCodes.MixedCase, $"{field} used upper-case letters; values are lower-case.", field));
        }

        if (result.Length > maxLength)
        {
            (violations ??= []).Add(new GovernanceViolation(ViolationCodes.ValueTruncated, $"{field} was longer than {maxLength} characters and was truncated.", field));
            result = result[..maxLength];
        }

        return result.IsEmpty ? null : result.ToString();
    }

    /// <summary>A value shortened for a violation message.</summary>
    public static string Truncate(string value) => value.Length <= MessageValueLength ? value : value[..MessageValueLength] + "…";
}
