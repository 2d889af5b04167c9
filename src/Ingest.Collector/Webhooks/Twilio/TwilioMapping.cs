using System.Text.Json;
using Ingest.Core.Identity;
using Ingest.Core.Touches;
using Microsoft.Extensions.Primitives;

namespace Ingest.Collector.Webhooks.Twilio;

/// <summary>Twilio voice webhook parameters → a <c>call</c> touch keyed by the caller, else by the call.</summary>
internal static class TwilioMapping
{
    private static readonly string[] Facts = ["To", "Direction", "CallStatus", "FromCity", "FromState", "FromCountry", "ToCity", "ToState", "CallerName", "ForwardedFrom"];

    /// <summary>The touch and its context; the context is null when <c>CallSid</c> is missing.</summary>
    public static (TouchPayload Payload, TouchContext? Context) Map(IReadOnlyDictionary<string, StringValues> form, IdentityNormalizer normalizer, DateTimeOffset receivedAt)
    {
        string? Get(string name) => form.TryGetValue(name, out var v) && v.Count > 0 && !string.IsNullOrWhiteSpace(v[0]) ? v[0] : null;
        var callSid = Get("CallSid");
        var from = Get("From");
        // Anonymous callers arrive as placeholders (+266696687) or client:names: no phone identity then.
        var caller = from is not null && !from.StartsWith("client:", StringComparison.Ordinal) ? normalizer.NormalizePhone(from) : null;
        var payload = new TouchPayload
        {
            Kind = "call",
            Phone = caller,
            // A withheld or client caller still made a touch: keep it, keyed by the call.
            ExternalId = caller is null && callSid is not null ? "twilio_call:" + callSid : null,
        };
        if (callSid is null)
        {
            return (payload, null);
        }

        var facts = new Dictionary<string, string> { ["provider"] = "twilio", ["call_sid"] = callSid };
        foreach (var name in Facts)
        {
            if (Get(name) is { } value)
            {
                facts[name == "To" ? "tracking_number" : JsonNamingPolicy.SnakeCaseLower.ConvertName(name)] = value;
            }
        }

        return (payload, new TouchContext { Door = "twilio", ReceivedAt = receivedAt, DefaultKind = TouchKind.Call, IdentitiesNormalized = true, DerivedEventId = "twilio:" + callSid, Provider = facts });
    }
}
