using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Ingest.IntegrationTests.Doors;

namespace Ingest.IntegrationTests.Fuzz;

/// <summary>One door of the collector, as the fuzz run addresses it.</summary>
public sealed record FuzzDoor(string Name, string Method, string PathTemplate);

/// <summary>
/// A seeded generator of malformed and hostile requests, one door at a time: truncated and deeply nested JSON, wrong
/// types, huge strings and numbers, invalid UTF-8 and lone surrogates, NUL, duplicate keys, wrong and missing content
/// types, oversized bodies, bad and replayed signatures, form ids and query values built to escape. The same seed gives
/// the same requests.
/// </summary>
public sealed class HostileRequests(int seed, Uri baseAddress)
{
    public static readonly FuzzDoor[] Doors =
    [
        new("touches", "POST", "/v1/touches"),
        new("batch", "POST", "/v1/touches/batch"),
        new("browser", "POST", "/v1/browser/touches"),
        new("forms", "POST", "/v1/forms/{formId}"),
        new("callrail", "POST", "/v1/webhooks/callrail"),
        new("twilio", "POST", "/v1/webhooks/twilio"),
        new("google-ads", "POST", "/v1/webhooks/google-ads"),
        new("meta", "POST", "/v1/webhooks/meta"),
        new("meta-verify", "GET", "/v1/webhooks/meta"),
        new("governance", "POST", "/v1/governance/preview"),
        new("leads", "GET", "/v1/leads"),
        new("reports", "GET", "/v1/reports/channels"),
        new("costs", "POST", "/v1/costs"),
        new("imports", "POST", "/v1/imports/touches"),
        new("reclassify", "POST", "/v1/governance/reclassify"),
        new("attribution", "GET", "/v1/reports/attribution"),
    ];

    private readonly Random _random = new(seed);

    private static readonly string[] TouchFields =
    [
        "event_id", "kind", "occurred_at", "anonymous_id", "email", "phone", "external_id", "page_url", "referrer", "utm_source",
        "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid", "fbclid", "yclid", "self_reported_source", "consent", "properties",
    ];

    private static readonly string[] HostileStrings =
    [
        "", " ", "\\u0000", "a\\u0000b", "\\ud800", "\\udfff", "\\ud800\\u0041", "\\uDBFF\\uDFFF", "💥", "Émail", "ÉMAIL",
        "https://example.com/?utm_source=\\ud800&gclid=%00", "../../etc/passwd", "' or 1=1 --", "<script>alert(1)</script>",
        "javascript:alert(1)", "%00%ff%fe", "\\r\\nX-Injected: 1", "１２３", "+1 (415) 555-0123 ext. 9", "ada@", "@example.com",
        "ada@example.com\\u0000.evil", "2026-13-45T99:99:99Z", "0000-00-00T00:00:00Z", "9999-12-31T23:59:59Z", "yesterday",
    ];

    private static readonly string[] HostileNumbers =
    [
        "0", "-1", "1e400", "-1e400", "123456789012345678901234567890", "1.7976931348623157e309", "0.0000000000000000000001", "NaN", "Infinity", "-0", "1_000", "0x10", "00012",
    ];

    private static readonly string[] FormIds =
    [
        "contact", "open", "contact%3AAllowedOrigins", "contact:AllowedOrigins", "CONTACT", "..%2F..%2Fadmin", "%2e%2e", "contact%00", "contact%0A",
        "a", new string('a', 65), new string('a', 5000), "contact;x", "c%C3%A9", "%FF%FE", "contact%252F", "contact__RedirectUrl", "-x", "_x",
    ];

    private static readonly string[] ContentTypes =
    [
        "application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "text/xml", "multipart/form-data; boundary=x",
        "application/json; charset=latin1", "application/problem+json", "*/*", "application/json;;;", "garbage", "",
    ];

    /// <summary>The next hostile request for the door (its body up to a few MiB).</summary>
    public HttpRequestMessage Next(FuzzDoor door) => door.Name switch
    {
        "touches" => Json(HttpMethod.Post, "/v1/touches", TouchBody(), auth: Pick(["Bearer " + CollectorHost.WriteKey, "Bearer " + CollectorHost.WriteKey, "Bearer wrong", "Basic x", "Bearer " + CollectorHost.ReadKey, null])),
        "batch" => Json(HttpMethod.Post, "/v1/touches/batch", BatchBody(), auth: "Bearer " + CollectorHost.WriteKey),
        "browser" => Browser(),
        "forms" => Form(),
        "callrail" => CallRail(),
        "twilio" => Twilio(),
        "google-ads" => Json(HttpMethod.Post, "/v1/webhooks/google-ads", GoogleAdsBody(), auth: null),
        "meta" => Meta(),
        "meta-verify" => new HttpRequestMessage(HttpMethod.Get, "/v1/webhooks/meta?" + Query(["hub.mode", "hub.verify_token", "hub.challenge"], [DoorsHost.MetaVerifyToken, "subscribe"])),
        "governance" => Json(HttpMethod.Post, "/v1/governance/preview", GovernanceBody(), auth: Pick(["Bearer " + CollectorHost.ReadKey, "Bearer " + CollectorHost.ReadKey, "Bearer " + CollectorHost.WriteKey])),
        "leads" => WithAuth(new HttpRequestMessage(HttpMethod.Get, Pick(["/v1/leads?", "/v1/leads/" + Guid.NewGuid() + "?", "/v1/leads/not-a-guid?"]) + Query(["email", "phone", "anonymous_id", "limit", "cursor"], [])), "Bearer " + CollectorHost.ReadKey),
        "reports" => WithAuth(new HttpRequestMessage(HttpMethod.Get, "/v1/reports/channels?" + Query(["touch", "taxonomy", "from", "to", "limit"], ["first", "latest", "b2b", "ga4"])), "Bearer " + CollectorHost.ReadKey),
        "costs" => Upload("/v1/costs", CostRows()),
        "imports" => Upload("/v1/imports/touches", ImportRows()),
        "reclassify" => WithAuth(new HttpRequestMessage(HttpMethod.Post, "/v1/governance/reclassify?" + Query(["dry_run", "limit", "from", "to", "after"], ["true", "false", "10", "2026-01-01T00:00:00Z"])),
            Pick(["Bearer " + CollectorHost.ReadKey, "Bearer " + CollectorHost.ReadKey, "Bearer " + CollectorHost.ServerKey, "Bearer " + CollectorHost.WriteKey, null])),
        "attribution" => WithAuth(new HttpRequestMessage(HttpMethod.Get, "/v1/reports/attribution?" + Query(
            ["from", "to", "conversion", "value", "currency", "models", "group_by", "taxonomy", "lookback_days", "half_life_days", "exclude_kinds"],
            ["sql", "customer", "revenue", "count", "EUR", "first,last", "campaign", "method", "ga4", "30", "7", "visit,offline"])), "Bearer " + CollectorHost.ReadKey),
        _ => throw new ArgumentOutOfRangeException(nameof(door), door.Name, null),
    };

    private static readonly string[] CostHeader = ["date", "source", "medium", "campaign", "amount", "currency"];

    private static readonly string[] ImportHeader = ["occurred_at", "email", "phone", "external_id", "event_code", "source", "medium", "campaign", "booth"];

    // A spend or list upload: CSV (most often) or a JSON array of row objects, with a server key most of the time.
    private HttpRequestMessage Upload(string path, (string[] Header, string[][] Rows) upload)
    {
        byte[] body;
        string contentType;
        if (Chance(60))
        {
            var lines = new List<string>();
            if (Chance(90))
            {
                lines.Add(string.Join(Pick([",", ",", ";", "\t"]), Chance(10) ? upload.Header.Reverse() : upload.Header));
            }

            lines.AddRange(upload.Rows.Select(row => string.Join(',', row.Select(CsvCell))));
            body = Mutate(string.Join(Pick(["\n", "\r\n", "\r"]), lines) + (Chance(50) ? "\n" : ""));
            contentType = Chance(85) ? Pick(["text/csv", "text/csv; charset=utf-8", "application/csv"]) : Pick(ContentTypes);
        }
        else
        {
            body = Mutate("[" + string.Join(',', upload.Rows.Select(row => "{" + string.Join(',', upload.Header.Zip(row)
                .Where(_ => Chance(90)).Select(c => "\"" + c.First + "\":" + (Chance(20) ? HostileValue() : "\"" + JsonEscape(c.Second) + "\""))) + "}")) + "]");
            contentType = Chance(85) ? "application/json" : Pick(ContentTypes);
        }

        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Content(body, contentType) };
        return WithAuth(request, Pick(["Bearer " + CollectorHost.ServerKey, "Bearer " + CollectorHost.ServerKey, "Bearer " + CollectorHost.ServerKey,
            "Bearer " + CollectorHost.WriteKey, "Bearer " + CollectorHost.ReadKey, null]));
    }

    private (string[], string[][]) CostRows() => (CostHeader, Enumerable.Range(0, _random.Next(0, 30)).Select(_ => new[]
    {
        Chance(80) ? "2026-11-" + _random.Next(1, 31).ToString("00", System.Globalization.CultureInfo.InvariantCulture) : HostileString(),
        Chance(80) ? Pick(["Google", "google", "LinkedIn", "bing", "Facebook"]) : HostileString(),
        Chance(80) ? Pick(["CPC", "cpc", "paid social", "display", ""]) : HostileString(),
        Chance(80) ? Pick(["brand", "abm_q4", ""]) : HostileString(),
        Chance(70) ? _random.Next(0, 5000).ToString(System.Globalization.CultureInfo.InvariantCulture) + Pick(["", ".5", ".999"]) : Pick(HostileNumbers),
        Chance(80) ? Pick(["USD", "EUR", "usd", "GBP"]) : HostileString(),
    }).ToArray());

    private (string[], string[][]) ImportRows() => (ImportHeader, Enumerable.Range(0, _random.Next(0, 30)).Select(_ => new[]
    {
        Chance(80) ? "2026-06-" + _random.Next(1, 31).ToString("00", System.Globalization.CultureInfo.InvariantCulture) + "T15:00:00Z" : HostileString(),
        Chance(60) ? "fuzz" + _random.Next(1000) + "@example.com" : Chance(50) ? "" : HostileString(),
        Chance(30) ? "+1415555" + _random.Next(1000, 9999) : Chance(50) ? "" : HostileString(),
        Chance(20) ? "crm-" + _random.Next(1000) : "",
        Chance(60) ? Pick(["SAASTR26", "saastr26", "NOPE", ""]) : HostileString(),
        Chance(70) ? "" : HostileString(),
        Chance(70) ? "" : HostileString(),
        Chance(70) ? "" : HostileString(),
        Chance(50) ? "B" + _random.Next(100) : HostileString(),
    }).ToArray());

    // A CSV cell: plain, quoted (with escaped or stray quotes) or carrying a delimiter or line break.
    private string CsvCell(string value) => _random.Next(10) switch
    {
        0 => "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"",
        1 => "\"" + value,
        2 => value + ",extra",
        3 => value + "\n",
        _ => value,
    };

    private static string JsonEscape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private bool Chance(int percent) => _random.Next(100) < percent;

    private string HostileString() => _random.Next(6) switch
    {
        0 => new string('x', _random.Next(1, 3) == 1 ? 70_000 : 400),
        1 => string.Concat(Enumerable.Range(0, _random.Next(1, 40)).Select(_ => (char)_random.Next(0x20, 0x7f))).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal),
        _ => Pick(HostileStrings),
    };

    private string HostileValue() => _random.Next(9) switch
    {
        0 => Pick(HostileNumbers),
        1 => Pick(["true", "false", "null", "[]", "{}", "[1,2]", "{\"a\":1}"]),
        2 => Nested(_random.Next(2, 3_000)),
        _ => "\"" + HostileString() + "\"",
    };

    private string Nested(int depth)
    {
        var open = Chance(50) ? "[" : "{\"a\":";
        var close = open == "[" ? "]" : "}";
        var sb = new StringBuilder(depth * 6);
        for (var i = 0; i < depth; i++)
        {
            sb.Append(open);
        }

        sb.Append('1');
        for (var i = 0; i < depth; i++)
        {
            sb.Append(close);
        }

        return sb.ToString();
    }

    // A plausible touch with some fields replaced by hostile values, duplicated or missing.
    private string TouchObject()
    {
        var fields = new List<string>();
        if (Chance(70))
        {
            fields.Add("\"kind\":\"" + Pick(["form", "call", "ad", "visit", "FORM", "teleport"]) + "\"");
        }

        if (Chance(70))
        {
            fields.Add("\"anonymous_id\":\"fuzz-" + _random.Next(1000) + "\"");
        }

        for (var i = _random.Next(0, 6); i > 0; i--)
        {
            var name = Pick(TouchFields);
            fields.Add("\"" + (Chance(10) ? name.ToUpperInvariant() : name) + "\":" + (name == "properties" && Chance(50) ? "{\"m\":" + HostileValue() + "}" : HostileValue()));
        }

        if (Chance(15))
        {
            fields.Add(fields.Count > 0 ? fields[0] : "\"kind\":\"call\""); // duplicate key
        }

        return "{" + string.Join(',', fields.OrderBy(_ => _random.Next())) + "}";
    }

    private byte[] Mutate(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        if (bytes.Length == 0)
        {
            return bytes;
        }

        switch (_random.Next(12))
        {
            case 0:
                return bytes[.._random.Next(bytes.Length + 1)]; // truncated
            case 1:
                return [.. bytes, .. "\u0000"u8.ToArray()];
            case 2:
            {
                var copy = bytes.ToArray();
                copy[_random.Next(copy.Length)] = Pick<byte>([0xFF, 0xC3, 0x80, 0xED, 0x00, 0xF4]); // invalid UTF-8
                return copy;
            }
            case 3:
                return Encoding.UTF8.GetBytes(Nested(_random.Next(50, 100_000)));
            case 4:
                return [.. "\uFEFF"u8.ToArray(), .. bytes]; // BOM
            case 5:
                return Chance(50) ? new byte[2 * 1024 * 1024].Select(_ => (byte)'a').ToArray() : Encoding.UTF8.GetBytes("{\"kind\":\"form\",\"anonymous_id\":\"" + new string('x', 1_200_000) + "\"}");
            case 6:
                return [];
            default:
                return bytes;
        }
    }

    private byte[] TouchBody() => Mutate(Chance(10) ? Pick(["[]", "null", "1", "\"s\"", "[{}]"]) : TouchObject());

    private byte[] BatchBody()
    {
        var items = Enumerable.Range(0, _random.Next(0, Chance(5) ? 600 : 8)).Select(_ => Chance(80) ? TouchObject() : HostileValue());
        var body = _random.Next(6) switch
        {
            0 => "{\"touches\":" + HostileValue() + "}",
            1 => "{\"touches\":[" + string.Join(',', items) + "],\"touches\":[]}",
            2 => "[" + string.Join(',', items) + "]",
            _ => "{\"touches\":[" + string.Join(',', items) + "]}",
        };
        return Mutate(body);
    }

    private byte[] GovernanceBody() => Mutate(Chance(50)
        ? "{\"url\":" + HostileValue() + "}"
        : "{\"utm_source\":" + HostileValue() + ",\"utm_medium\":" + HostileValue() + ",\"referrer\":" + HostileValue() + "}");

    private byte[] GoogleAdsBody() => Mutate("{\"google_key\":\"" + (Chance(70) ? DoorsHost.GoogleKey : "wrong") + "\",\"lead_id\":" + HostileValue()
        + ",\"user_column_data\":" + (Chance(50) ? "[{\"column_id\":\"EMAIL\",\"string_value\":" + HostileValue() + "}]" : HostileValue()) + ",\"gcl_id\":" + HostileValue() + "}");

    private string FormBody() => string.Join('&', Enumerable.Range(0, _random.Next(0, 8)).Select(_ =>
        Escape(Pick(["email", "phone", "name", "utm_source", "gclid", "yclid", "message", "anonymous_id", "page_url", "a[b]", "%", "email"]))
        + (Chance(90) ? "=" + Escape(HostileString().Replace("\\u0000", "\0", StringComparison.Ordinal)) : "")));

    private string Escape(string value) => Chance(85) ? Uri.EscapeDataString(value) : value;

    private string Query(string[] names, string[] good) => string.Join('&', Enumerable.Range(0, _random.Next(0, 5)).Select(_ =>
        Escape(Pick(names)) + "=" + (good.Length > 0 && Chance(40) ? Pick(good) : Pick(["%00", "%ff", "%", "ada@example.com", "-1", "0", "99999999999999999999", "1e9", new string('q', 9000), "ZZZ", "2026-02-30", "../", "%E2%80%AE"]))));

    private HttpRequestMessage Json(HttpMethod method, string path, byte[] body, string? auth)
    {
        var request = new HttpRequestMessage(method, path) { Content = Content(body, Chance(80) ? "application/json" : Pick(ContentTypes)) };
        return WithAuth(request, auth);
    }

    private static ByteArrayContent Content(byte[] body, string? contentType)
    {
        var content = new ByteArrayContent(body);
        if (!string.IsNullOrEmpty(contentType))
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        return content;
    }

    private static HttpRequestMessage WithAuth(HttpRequestMessage request, string? auth)
    {
        if (auth is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", auth);
        }

        return request;
    }

    private HttpRequestMessage Browser()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/browser/touches?" + (Chance(80) ? "write_key=" + CollectorHost.WriteKey : Query(["write_key"], ["wrong"])))
        {
            Content = Content(TouchBody(), Chance(80) ? "text/plain" : Pick(ContentTypes)),
        };
        request.Headers.TryAddWithoutValidation("Origin", Pick(["https://www.acme.com", "https://evil.example", "null", "", "https://www.acme.com.evil.example"]));
        return request;
    }

    private HttpRequestMessage Form()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/forms/" + Pick(FormIds))
        {
            Content = Chance(85) ? Content(Encoding.UTF8.GetBytes(FormBody()), Chance(85) ? "application/x-www-form-urlencoded" : Pick(ContentTypes)) : Content(Mutate(TouchObject()), Pick(ContentTypes)),
        };
        request.Headers.TryAddWithoutValidation("Origin", Pick(["https://www.acme.com", "https://www.acme.com", "https://evil.example", "null", "https://www.acme.com:443"]));
        if (Chance(50))
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        }

        if (Chance(30))
        {
            request.Headers.TryAddWithoutValidation("Referer", Pick(["https://www.acme.com/?utm_source=\u0000", "not a url", "https://www.acme.com/" + new string('r', 5000), "https://evil.example/?gclid=x"]));
        }

        return request;
    }

    private string? _lastCallRailSignature;

    private HttpRequestMessage CallRail()
    {
        var body = Mutate("{\"resource_id\":" + HostileValue() + ",\"customer_phone_number\":" + HostileValue() + ",\"start_time\":" + HostileValue()
            + ",\"gclid\":" + HostileValue() + ",\"answered\":" + HostileValue() + "}");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/callrail" + (Chance(50) ? "?event=" + Pick(["post_call", "pre_call", "form_captured", "%00", "x"]) : ""))
        {
            Content = Content(body, Chance(85) ? "application/json" : Pick(ContentTypes)),
        };
        var valid = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(DoorsHost.CallRailKey), body));
        var signature = _random.Next(5) switch
        {
            0 => _lastCallRailSignature ?? valid, // replayed from another body
            1 => "not base64 !!",
            2 => null,
            _ => valid,
        };
        _lastCallRailSignature = valid;
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation("Signature", signature);
        }

        return request;
    }

    private HttpRequestMessage Twilio()
    {
        var fields = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var i = _random.Next(0, 7); i > 0; i--)
        {
            fields[Pick(["CallSid", "From", "To", "CallStatus", "Direction", "Caller", "FromCountry", "x"])] = HostileString().Replace("\\u0000", "\0", StringComparison.Ordinal);
        }

        var body = string.Join('&', fields.Select(kv => Uri.EscapeDataString(kv.Key) + "=" + Uri.EscapeDataString(kv.Value)));
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/twilio")
        {
            Content = Chance(90) ? Content(Encoding.UTF8.GetBytes(body), "application/x-www-form-urlencoded") : Content(Mutate(body), Pick(ContentTypes)),
        };
        var data = new Uri(baseAddress, "/v1/webhooks/twilio").AbsoluteUri + string.Concat(fields.Select(kv => kv.Key + kv.Value));
        var valid = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(DoorsHost.TwilioToken), Encoding.UTF8.GetBytes(data)));
        request.Headers.TryAddWithoutValidation("X-Twilio-Signature", Chance(70) ? valid : Pick(["", "AAAA", valid[..^2] + "==", "%%%"]));
        return request;
    }

    private HttpRequestMessage Meta()
    {
        var body = Mutate("{\"object\":\"page\",\"entry\":" + (Chance(60) ? "[{\"changes\":[{\"field\":\"leadgen\",\"value\":{\"leadgen_id\":" + HostileValue() + ",\"created_time\":" + HostileValue() + ",\"field_data\":" + HostileValue() + "}}]}]" : HostileValue()) + "}");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/meta") { Content = Content(body, Chance(85) ? "application/json" : Pick(ContentTypes)) };
        var valid = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(DoorsHost.MetaSecret), body));
        request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", _random.Next(5) switch
        {
            0 => "sha256=" + new string('0', 64),
            1 => "sha1=" + valid[7..],
            2 => valid.ToUpperInvariant(),
            _ => valid,
        });
        return request;
    }

    /// <summary>For the report: how many characters a hostile request's path and query hold.</summary>
    public static string Describe(HttpRequestMessage request) =>
        string.Create(CultureInfo.InvariantCulture, $"{request.Method} {request.RequestUri?.OriginalString[..Math.Min(request.RequestUri.OriginalString.Length, 120)]}");
}
