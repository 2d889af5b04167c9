extern alias worker;

using System.Collections;
using System.Reflection;
using System.Text.RegularExpressions;
using Ingest.Collector.Http;
using Ingest.Collector.Kafka;
using Ingest.Collector.Webhooks;
using Ingest.Core.Touches;
using Ingest.ServiceDefaults;
using WorkerOptions = worker::Ingest.Worker.WorkerOptions;

namespace Ingest.Deploy.Tests;

/// <summary>
/// The configuration names the services read, as environment variables ('__' between sections). Sections bound to an
/// options type are checked against that type's properties, so a renamed or misspelt setting fails here instead of
/// being silently ignored by a container.
/// </summary>
internal static partial class ConfigurationNames
{
    private static readonly (string Prefix, Type Options)[] BoundSections =
    [
        ("Kafka", typeof(KafkaOptions)),
        ("Worker", typeof(WorkerOptions)),
        ("Alerts__SpeedToLead", typeof(worker::Ingest.Worker.Alerts.SpeedToLeadAlertOptions)),
        ("Webhooks", typeof(WebhookOptions)),
        ("Collector__Kafka", typeof(TouchProducerOptions)),
        ("Collector__RateLimit", typeof(RateLimitOptions)),
        ("Collector__Limits", typeof(TouchLimits)),
        ("Reports", typeof(Ingest.Storage.Reports.ReportSettings)),
    ];

    /// <summary>Why <paramref name="name"/> is not a name the services read, or null when it is.</summary>
    public static string? Problem(string name)
    {
        if (ReadDirectly().IsMatch(name))
        {
            return null;
        }

        foreach (var (prefix, options) in BoundSections)
        {
            if (name.StartsWith(prefix + "__", StringComparison.Ordinal))
            {
                return PropertyPathProblem(options, name[(prefix.Length + 2)..].Split("__"));
            }
        }

        return $"'{name}' is not a configuration name the services read";
    }

    // Walks the configuration binder's view of a type: properties by exact name, list indexes, dictionary keys.
    private static string? PropertyPathProblem(Type type, string[] segments)
    {
        foreach (var segment in segments)
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                type = type.GetGenericArguments()[1];
            }
            else if (type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type))
            {
                if (!int.TryParse(segment, out _))
                {
                    return $"'{segment}' should be a list index";
                }

                type = type.IsArray ? type.GetElementType()! : type.GetGenericArguments()[0];
            }
            else
            {
                var property = type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance);
                if (property is null)
                {
                    return $"{type.Name} has no property '{segment}'";
                }

                type = property.PropertyType;
            }
        }

        return null;
    }

    // Names read straight from IConfiguration (no options type), and the platform's own variables.
    [GeneratedRegex(@"^(ConnectionStrings__(Postgres|Redis)|Collector__(WriteKeys|ServerKeys|CorsOrigins)__\d+|Collector__DefaultPhoneRegion|Api__ReadKeys__\d+|Forms__[\w-]+__(RedirectUrl|AllowedOrigins__\d+)|Governance__(RulesPath|Taxonomy)|Redis__KeyPrefix|Logging__\w+(__[\w.]+)*|Urls|OTEL_\w+|ASPNETCORE_\w+|DOTNET_\w+)$")]
    private static partial Regex ReadDirectly();
}
