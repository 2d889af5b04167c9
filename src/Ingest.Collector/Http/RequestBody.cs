using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Ingest.Collector.Problems;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ingest.Collector.Http;

/// <summary>Reads JSON request bodies straight from the pipe, enforcing a size limit and the accepted content types.</summary>
public static class RequestBody
{
    /// <summary>
    /// JSON bodies: <c>application/json</c> (and <c>+json</c>) or <c>text/plain</c> holding JSON, which is what
    /// <c>navigator.sendBeacon</c> sends without a CORS preflight.
    /// </summary>
    public static bool IsJsonContentType(HttpRequest request)
    {
        var contentType = request.ContentType;
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }

        var mediaType = contentType.AsSpan();
        var semicolon = mediaType.IndexOf(';');
        if (semicolon >= 0)
        {
            mediaType = mediaType[..semicolon];
        }

        mediaType = mediaType.Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Parses a complete body; throws <see cref="JsonException"/> when it is not what the endpoint expects.</summary>
    public delegate T BodyParser<T>(ReadOnlySequence<byte> body);

    /// <summary>Reads and deserializes a JSON body of at most <paramref name="limit"/> bytes; on failure returns the problem to answer.</summary>
    public static ValueTask<(T? Value, ProblemHttpResult? Problem)> ReadJsonAsync<T>(HttpRequest request, int limit, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
        where T : class =>
        ReadAsync(request, limit, body => Deserialize(body, typeInfo), cancellationToken);

    /// <summary>Reads a JSON body of at most <paramref name="limit"/> bytes and hands the whole of it to <paramref name="parse"/>.</summary>
    public static async ValueTask<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(HttpRequest request, int limit, BodyParser<T> parse, CancellationToken cancellationToken,
        bool requireJson = true)
        where T : class
    {
        if (requireJson && !IsJsonContentType(request))
        {
            return (null, ProblemResponses.Problem(StatusCodes.Status415UnsupportedMediaType, ProblemTypes.UnsupportedMediaType,
                "Send the body as application/json (or text/plain holding JSON).", "Content-Type"));
        }

        if (request.ContentLength > limit)
        {
            return (null, TooLarge(limit));
        }

        var reader = request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken);
            if (read.Buffer.Length > limit)
            {
                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                return (null, TooLarge(limit));
            }

            if (read.IsCompleted || read.IsCanceled)
            {
                try
                {
                    return (parse(read.Buffer), null);
                }
                catch (JsonException ex)
                {
                    return (null, Malformed(ex));
                }
                finally
                {
                    reader.AdvanceTo(read.Buffer.End);
                }
            }

            // Not everything has arrived yet: keep it all buffered and ask for more.
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    /// <summary>The raw body bytes (for signature checks, which must see exactly what was signed), at most <paramref name="limit"/>.</summary>
    public static ValueTask<(byte[]? Value, ProblemHttpResult? Problem)> ReadBytesAsync(HttpRequest request, int limit, CancellationToken cancellationToken) =>
        ReadAsync(request, limit, static body => body.ToArray(), cancellationToken, requireJson: false);

    private static T Deserialize<T>(ReadOnlySequence<byte> body, JsonTypeInfo<T> typeInfo)
    {
        if (body.IsEmpty)
        {
            throw new JsonException("The request body is empty.");
        }

        var json = new Utf8JsonReader(body);
        return JsonSerializer.Deserialize(ref json, typeInfo) ?? throw new JsonException("The request body is null.");
    }

    /// <summary>A 400 naming the JSON path that failed, never echoing the offending value.</summary>
    public static ProblemHttpResult Malformed(JsonException ex)
    {
        var path = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? null : ex.Path.TrimStart('$', '.');
        var detail = path is null
            ? "The body is not valid JSON: " + (ex.LineNumber is { } line ? $"syntax error near line {line + 1}, position {ex.BytePositionInLine}." : "it is empty or not an object.")
            : $"Field '{path}' has the wrong type or shape.";
        return ProblemResponses.Problem(StatusCodes.Status400BadRequest, ProblemTypes.Malformed, detail, path);
    }

    public static ProblemHttpResult TooLarge(int limit) =>
        ProblemResponses.Problem(StatusCodes.Status413PayloadTooLarge, ProblemTypes.TooLarge, $"The body may be at most {limit} bytes.");
}
