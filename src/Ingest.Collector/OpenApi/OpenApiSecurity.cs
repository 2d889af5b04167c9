using Ingest.Collector.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Ingest.Collector.OpenApi;

/// <summary>
/// The security schemes of the OpenAPI document: one per key role and one per webhook signature. An operation gets the
/// scheme of its authorization policy (write or read key) or the one its endpoint names with
/// <see cref="WithSecurityScheme{TBuilder}"/>; an operation with neither is declared public (<c>security: []</c>).
/// </summary>
public static class OpenApiSecurity
{
    public const string WriteKey = "writeKey";
    public const string ReadKey = "readKey";
    public const string ServerKey = "serverKey";
    public const string HubSpotSignature = "hubSpotSignature";
    public const string BrowserWriteKey = "browserWriteKey";
    public const string CallRailSignature = "callRailSignature";
    public const string TwilioSignature = "twilioSignature";
    public const string MetaSignature = "metaSignature";
    public const string MetaVerifyToken = "metaVerifyToken";

    private static readonly Dictionary<string, string[]> PolicySchemes = new()
    {
        [ApiKeyAuthentication.WritePolicy] = [WriteKey],
        [ApiKeyAuthentication.ReadPolicy] = [ReadKey],
        [ApiKeyAuthentication.ServerPolicy] = [ServerKey],
        [ApiKeyAuthentication.ReadOrServerPolicy] = [ReadKey, ServerKey],
    };

    private static readonly Dictionary<string, Func<OpenApiSecurityScheme>> Schemes = new()
    {
        [WriteKey] = static () => Bearer(
            "A write key (Collector:WriteKeys) as 'Authorization: Bearer <key>'. Write keys sit in public web pages: they send touches and never grant reads."),
        [ReadKey] = static () => Bearer("A read key (Api:ReadKeys) as 'Authorization: Bearer <key>': leads, reports, the governance preview and reclassification dry runs."),
        [BrowserWriteKey] = static () => ApiKey(ParameterLocation.Query, "write_key",
            "A write key for the browser door, in ?write_key= or in the body's \"write_key\" field (navigator.sendBeacon cannot send headers). Accepted only from the origins in Collector:CorsOrigins."),
        [CallRailSignature] = static () => ApiKey(ParameterLocation.Header, "Signature",
            "CallRail's signature: Base64(HMAC-SHA1(company signing key, raw body)); keys in Webhooks:CallRail:SigningKeys."),
        [TwilioSignature] = static () => ApiKey(ParameterLocation.Header, "X-Twilio-Signature",
            "Twilio's signature: Base64(HMAC-SHA1(auth token, public URL + sorted POST parameters)); token in Webhooks:Twilio:AuthToken."),
        [MetaSignature] = static () => ApiKey(ParameterLocation.Header, "X-Hub-Signature-256",
            "Meta's signature: sha256=<hex HMAC-SHA256(app secret, raw body)>; secret in Webhooks:Meta:AppSecret."),
        [MetaVerifyToken] = static () => ApiKey(ParameterLocation.Query, "hub.verify_token",
            "The subscription verify token (Webhooks:Meta:VerifyToken) Meta sends with the handshake."),
        [ServerKey] = static () => Bearer(
            "A server key (Collector:ServerKeys) as 'Authorization: Bearer <key>': outcomes from CRM workflows and sales tools, and applying a reclassification. Write keys and read keys never post outcomes."),
        [HubSpotSignature] = static () => ApiKey(ParameterLocation.Header, "X-HubSpot-Signature-v3",
            "HubSpot's v3 signature: Base64(HMAC-SHA256(client secret, method + URI + body + X-HubSpot-Request-Timestamp)); requests older than 5 minutes are refused; secret in Webhooks:HubSpot:ClientSecret."),
    };

    private static OpenApiSecurityScheme Bearer(string description) =>
        new() { Type = SecuritySchemeType.Http, Scheme = "bearer", Description = description };

    private static OpenApiSecurityScheme ApiKey(ParameterLocation location, string name, string description) =>
        new() { Type = SecuritySchemeType.ApiKey, In = location, Name = name, Description = description };

    /// <summary>Names the security scheme that guards an endpoint outside the key policies (a webhook signature, the browser key).</summary>
    public static TBuilder WithSecurityScheme<TBuilder>(this TBuilder builder, string scheme)
        where TBuilder : IEndpointConventionBuilder
    {
        if (!Schemes.ContainsKey(scheme))
        {
            throw new ArgumentException($"Unknown security scheme '{scheme}'; declare it in {nameof(OpenApiSecurity)}.", nameof(scheme));
        }

        return builder.WithMetadata(new SecuritySchemeMetadata(scheme));
    }

    /// <summary>Sets each operation's security requirement and declares, once, every scheme the document uses.</summary>
    public static Task ApplyAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var schemes = metadata.OfType<IAuthorizeData>()
            .SelectMany(static a => a.Policy is { } policy && PolicySchemes.TryGetValue(policy, out var policySchemes) ? policySchemes : [])
            .Concat(metadata.OfType<SecuritySchemeMetadata>().Select(static m => m.Scheme))
            .Distinct()
            .ToList();

        var document = context.Document ?? throw new InvalidOperationException("The operation transformer runs without its document.");
        operation.Security = [];
        foreach (var scheme in schemes)
        {
            if (document.Components?.SecuritySchemes?.ContainsKey(scheme) != true)
            {
                document.AddComponent<IOpenApiSecurityScheme>(scheme, Schemes[scheme]());
            }

            // Each scheme alone is enough, so each is its own requirement (OpenAPI ORs the list).
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, document)] = [] });
        }

        return Task.CompletedTask;
    }

    private sealed record SecuritySchemeMetadata(string Scheme);
}
