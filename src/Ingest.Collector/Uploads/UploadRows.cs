using System.Buffers;
using System.Text.Json;
using Ingest.Collector.Kafka;
using Ingest.Collector.Problems;
using Ingest.Collector.Touches;
using Ingest.Core.Touches;
using Microsoft.AspNetCore.Http.HttpResults;
using nietras.SeparatedValues;

namespace Ingest.Collector.Uploads;

/// <summary>
/// One row of an uploaded file: its number (1 = the first row after the header, or the first item of a JSON array), the
/// line it starts on (CSV), its fields by lower-cased column name, or why it could not be read.
/// </summary>
public sealed record UploadRecord(int Row, int? Line, IReadOnlyDictionary<string, string?> Fields, FieldError? Error)
{
    /// <summary>The trimmed value of <paramref name="column"/>; null when it is absent or blank.</summary>
    public string? this[string column] => Fields.GetValueOrDefault(column)?.Trim() is { Length: > 0 } value ? value : null;
}

/// <summary>
/// A stored cost's key after governance (documentation of <see cref="UploadRowResult.Cost"/>): where the row's spend lands
/// in the reports.
/// </summary>
public sealed record StoredCost(DateOnly Date, string Source, string Medium, string? Campaign, string Channel);

/// <summary>
/// One row's answer: <c>stored</c> or <c>replaced</c> (costs), <c>accepted</c> or <c>unavailable</c> (imports: retry the
/// file, each row keeps its event id), or <c>rejected</c> with the problems of the row.
/// </summary>
public sealed record UploadRowResult(int Row, int? Line, string Status, string? EventId = null, StoredCost? Cost = null, IReadOnlyList<FieldError>? Errors = null)
{
    /// <summary>The status of a row that was refused.</summary>
    public const string Rejected = "rejected";

    /// <summary>The status of a row Kafka did not acknowledge.</summary>
    public const string Unavailable = "unavailable";
}

/// <summary>The answer to an upload: counts and a result per row, in file order.</summary>
public sealed record UploadResult(int Accepted, int Rejected, int Unavailable, IReadOnlyList<UploadRowResult> Rows);

/// <summary>
/// What the file doors (costs, offline touches) share: reading a CSV (streamed with Sep, bounded in bytes and rows) or a
/// JSON array into <see cref="UploadRecord"/>s, mapping each row on its own so a bad row never costs the good ones, and the
/// per-row answer (503 with <c>Retry-After</c> when Kafka did not take some rows).
/// </summary>
public static class UploadRows
{
    /// <summary>Largest upload, in bytes.</summary>
    public const int MaxBytes = 8 * 1024 * 1024;

    /// <summary>Most rows an upload may hold.</summary>
    public const int MaxRows = 10_000;

    /// <summary>Declares the problems every file door answers with (bad file, keys, size, content type, rate limit).</summary>
    public static RouteHandlerBuilder ProducesUploadProblems(this RouteHandlerBuilder builder) => builder
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
        .ProducesProblem(StatusCodes.Status429TooManyRequests);

    /// <summary>Whether the body is declared <c>text/csv</c>.</summary>
    public static bool IsCsv(HttpRequest request) => MediaType(request).Equals("text/csv", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads a CSV body whose header names at least <paramref name="required"/> (any order, any case; other columns are kept
    /// as fields too); answers 400 for a file without that header, 413 past <see cref="MaxBytes"/> or <see cref="MaxRows"/>.
    /// </summary>
    public static async Task<(List<UploadRecord>? Records, ProblemHttpResult? Problem)> ReadCsvAsync(HttpRequest request, IReadOnlyList<string> required,
        CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge());
        }

        var records = new List<UploadRecord>();
        try
        {
            await using var body = new BoundedStream(request.Body, MaxBytes);
            using var reader = await Sep.New(',').Reader(static o => o with
            {
                DisableColCountCheck = true,
                Unescape = true,
                Trim = SepTrim.All,
                ColNameComparer = StringComparer.OrdinalIgnoreCase,
            }).FromAsync(body, cancellationToken);
            var columns = reader.Header.ColNames.Select(static c => c.ToLowerInvariant()).ToArray();
            var missing = required.Where(r => !columns.Contains(r)).ToList();
            if (reader.Header.IsEmpty || missing.Count > 0)
            {
                return (null, Malformed($"The first line must be the header naming {string.Join(",", required)}; it lacks {string.Join(", ", missing)}.", "header"));
            }

            while (await reader.MoveNextAsync(cancellationToken))
            {
                var row = reader.Current;
                if (row.Span.IsWhiteSpace())
                {
                    continue;
                }

                if (records.Count == MaxRows)
                {
                    return (null, TooLarge());
                }

                var fields = new Dictionary<string, string?>(StringComparer.Ordinal);
                for (var i = 0; i < Math.Min(row.ColCount, columns.Length); i++)
                {
                    fields[columns[i]] = row[i].ToString();
                }

                var error = row.ColCount == columns.Length ? null
                    : new FieldError("row", "column_count", $"The row has {row.ColCount} columns; the header has {columns.Length}.");
                records.Add(new UploadRecord(row.RowIndex, row.LineNumberFrom, fields, error ?? ControlCharacterIn(fields)));
            }
        }
        catch (UploadTooLargeException)
        {
            return (null, TooLarge());
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or System.Text.DecoderFallbackException)
        {
            return (null, Malformed("The body is not CSV this endpoint can read: " + ex.Message.Split('\n')[0], null));
        }

        return (records, null);
    }

    /// <summary>
    /// Reads a JSON body that is an array of flat objects, each an <see cref="UploadRecord"/> (strings and numbers as their
    /// text); an item that is not a flat object is a row error. 400 when the body is not such an array, 413 past the limits.
    /// </summary>
    public static async Task<(List<UploadRecord>? Records, ProblemHttpResult? Problem)> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var (records, problem) = await Http.RequestBody.ReadAsync(request, MaxBytes, ReadJsonArray, cancellationToken);
        return records is { Count: > MaxRows } ? (null, TooLarge()) : (records, problem);
    }

    private static List<UploadRecord> ReadJsonArray(ReadOnlySequence<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("The body must be a JSON array of objects.");
        }

        var records = new List<UploadRecord>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var number = records.Count + 1;
            var fields = new Dictionary<string, string?>(StringComparer.Ordinal);
            FieldError? error = reader.TokenType == JsonTokenType.StartObject ? null : new FieldError("row", "malformed", "Each row must be a JSON object.");
            if (error is not null)
            {
                reader.Skip();
            }

            while (error is null && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                // A name or value that is not Unicode (an unpaired surrogate escape) is this row's error, not the upload's.
                if (!TryGetText(ref reader, out var rawName))
                {
                    reader.Skip();
                    error = new FieldError("row", "invalid_text", "A field name is not valid Unicode (an unpaired surrogate escape).");
                    SkipRestOfObject(ref reader);
                    break;
                }

                var name = rawName!.Trim().ToLowerInvariant();
                reader.Read();
                switch (reader.TokenType)
                {
                    case JsonTokenType.String when TryGetText(ref reader, out var text):
                        fields[name] = text;
                        break;
                    case JsonTokenType.String:
                        error = new FieldError(name, "invalid_text", $"Field '{name}' is not valid Unicode (an unpaired surrogate escape).");
                        SkipRestOfObject(ref reader);
                        break;
                    case JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False:
                        fields[name] = System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
                        break;
                    case JsonTokenType.Null:
                        fields[name] = null;
                        break;
                    default:
                        reader.Skip();
                        error = new FieldError(name, "malformed", $"Field '{name}' must be a string or a number.");
                        SkipRestOfObject(ref reader);
                        break;
                }
            }

            records.Add(new UploadRecord(number, null, fields, error ?? ControlCharacterIn(fields)));
        }

        return records;
    }

    /// <summary>
    /// Maps every readable row with <paramref name="map"/>; the rows that could not be read or mapped get their rejected
    /// result, the others are returned with their index for the door to store or produce and answer.
    /// </summary>
    public static (List<(int Index, T Value)> Good, UploadRowResult?[] Results) Map<T>(IReadOnlyList<UploadRecord> records,
        Func<UploadRecord, (T? Value, IReadOnlyList<FieldError> Errors)> map)
    {
        var results = new UploadRowResult?[records.Count];
        var good = new List<(int, T)>(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            var (value, errors) = record.Error is { } unreadable ? (default, [unreadable]) : map(record);
            if (errors.Count > 0 || value is null)
            {
                results[i] = Reject(record, errors);
                continue;
            }

            good.Add((i, value));
        }

        return (good, results);
    }

    /// <summary>The rejected result of <paramref name="record"/>.</summary>
    public static UploadRowResult Reject(UploadRecord record, IReadOnlyList<FieldError> errors) =>
        new(record.Row, record.Line, UploadRowResult.Rejected, Errors: errors);

    /// <summary>
    /// The per-row answer with <paramref name="status"/> (200 stored, 202 accepted); any unavailable row makes it 503 with
    /// <c>Retry-After</c> and the same body: the client sends the file again and nothing is stored twice.
    /// </summary>
    public static JsonHttpResult<UploadResult> Answer(HttpContext http, IReadOnlyList<UploadRowResult?> results, int status, TouchProducerOptions? producer = null)
    {
        var rows = results.Select(static r => r ?? throw new InvalidOperationException("A row was left without a result.")).ToList();
        var rejected = rows.Count(static r => r.Status == UploadRowResult.Rejected);
        var unavailable = rows.Count(static r => r.Status == UploadRowResult.Unavailable);
        if (unavailable > 0 && producer is not null)
        {
            IntakeAnswers.SetRetryAfter(http, producer);
            status = StatusCodes.Status503ServiceUnavailable;
        }

        return TypedResults.Json(new UploadResult(rows.Count - rejected - unavailable, rejected, unavailable, rows), CollectorJsonContext.Default.UploadResult, statusCode: status);
    }

    /// <summary>A 400 for an upload that cannot be read, naming what is wrong with it.</summary>
    public static ProblemHttpResult Malformed(string detail, string? field) =>
        ProblemResponses.Problem(StatusCodes.Status400BadRequest, ProblemTypes.MalformedUpload, detail, field);

    /// <summary>415 naming the content types this door takes.</summary>
    public static ProblemHttpResult UnsupportedMediaType(string accepted) =>
        ProblemResponses.Problem(StatusCodes.Status415UnsupportedMediaType, ProblemTypes.UnsupportedMediaType, $"Send the body as {accepted}.", "Content-Type");

    private static ProblemHttpResult TooLarge() =>
        ProblemResponses.Problem(StatusCodes.Status413PayloadTooLarge, ProblemTypes.TooLarge, $"An upload may be at most {MaxBytes} bytes and {MaxRows} rows; split the file.");

    private static ReadOnlySpan<char> MediaType(HttpRequest request)
    {
        var contentType = (request.ContentType ?? "").AsSpan();
        var semicolon = contentType.IndexOf(';');
        return (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim();
    }

    /// <summary>
    /// A cell holding a control character (NUL … U+001F but tab and line breaks, which a quoted CSV cell may hold) is
    /// its row's error: Postgres refuses NUL in text, and no spend or list field needs one (found by the fuzz run).
    /// </summary>
    private static readonly System.Buffers.SearchValues<char> ControlCharacters = System.Buffers.SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\u000b\f\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f");

    private static FieldError? ControlCharacterIn(Dictionary<string, string?> fields)
    {
        foreach (var (name, value) in fields)
        {
            if (name.AsSpan().IndexOfAny(ControlCharacters) >= 0)
            {
                return new FieldError("row", "invalid_text", "A column name holds a control character.");
            }

            if (value is not null && value.AsSpan().IndexOfAny(ControlCharacters) >= 0)
            {
                return new FieldError(name, "invalid_text", $"Field '{name}' holds a control character.");
            }
        }

        return null;
    }

        private static bool TryGetText(ref Utf8JsonReader reader, out string? text)
    {
        try
        {
            text = reader.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            text = null;
            return false;
        }
    }

        private static void SkipRestOfObject(ref Utf8JsonReader reader)
    {
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            reader.Skip();
        }
    }

    private sealed class UploadTooLargeException() : IOException("The upload is larger than the limit.");

    // Counts what the body yields and stops past the limit, so a body without Content-Length is bounded too.
    private sealed class BoundedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int read)
        {
            _read += read;
            return _read > limit ? throw new UploadTooLargeException() : read;
        }
    }
}
