namespace Ingest.Core.Governance;

/// <summary>Allocation-free reading of the parts of an http(s) URL governance needs: host, landing page, query values.</summary>
internal static class UrlParts
{
    /// <summary>Finds the host of an absolute http(s) URL; false when the text is not one.</summary>
    public static bool TryGetHost(string url, out Range host)
    {
        host = default;
        var span = url.AsSpan().Trim();
        var offset = url.Length - url.AsSpan().TrimStart().Length;
        int schemeLength;
        if (span.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            schemeLength = 8;
        }
        else if (span.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            schemeLength = 7;
        }
        else
        {
            return false;
        }

        var rest = span[schemeLength..];
        var end = rest.IndexOfAny('/', '?', '#');
        var authority = end < 0 ? rest : rest[..end];
        var at = authority.LastIndexOf('@');
        var hostStart = at + 1;
        var hostSpan = authority[hostStart..];
        var colon = hostSpan.IndexOf(':');
        if (colon >= 0)
        {
            if (!int.TryParse(hostSpan[(colon + 1)..], out _))
            {
                return false;
            }

            hostSpan = hostSpan[..colon];
        }

        if (hostSpan.IsEmpty || hostSpan.ContainsAnyExcept(HostChars) || hostSpan[0] == '.' || hostSpan[^1] == '.' || hostSpan.IndexOf("..", StringComparison.Ordinal) >= 0)
        {
            return false;
        }

        var start = offset + schemeLength + hostStart;
        host = new Range(start, start + hostSpan.Length);
        return true;
    }

    private static readonly System.Buffers.SearchValues<char> HostChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");

    /// <summary>The host without a leading <c>www.</c>.</summary>
    public static ReadOnlySpan<char> WithoutWww(ReadOnlySpan<char> host) =>
        host.StartsWith("www.", StringComparison.OrdinalIgnoreCase) ? host[4..] : host;

    /// <summary>Scheme, host and path: the URL without query and fragment.</summary>
    public static ReadOnlySpan<char> WithoutQuery(string url)
    {
        var span = url.AsSpan().Trim();
        var end = span.IndexOfAny('?', '#');
        return end < 0 ? span : span[..end];
    }

    /// <summary>The first value of a query parameter (name compared case-insensitively), URL-decoded; null when absent.</summary>
    public static string? QueryValue(string url, string name)
    {
        var span = url.AsSpan();
        var q = span.IndexOf('?');
        if (q < 0)
        {
            return null;
        }

        var query = span[(q + 1)..];
        var hash = query.IndexOf('#');
        if (hash >= 0)
        {
            query = query[..hash];
        }

        foreach (var pairRange in query.Split('&'))
        {
            var pair = query[pairRange];
            var eq = pair.IndexOf('=');
            var key = eq < 0 ? pair : pair[..eq];
            if (key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                var value = eq < 0 ? ReadOnlySpan<char>.Empty : pair[(eq + 1)..];
                return Decode(value);
            }
        }

        return null;
    }

    private static string Decode(ReadOnlySpan<char> value)
    {
        if (!value.ContainsAny('%', '+'))
        {
            return value.ToString();
        }

        try
        {
            return Uri.UnescapeDataString(value.ToString().Replace('+', ' '));
        }
        catch (UriFormatException)
        {
            return value.ToString();
        }
    }
}
