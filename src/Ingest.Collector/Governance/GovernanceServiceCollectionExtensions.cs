using Ingest.Core.Governance;
using Ingest.ServiceDefaults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ingest.Collector.Governance;

/// <summary>Registers the governance rules (<c>Governance:RulesPath</c>, <c>Governance:Taxonomy</c>) and the engine.</summary>
public static partial class GovernanceServiceCollectionExtensions
{
    public static IServiceCollection AddGovernance(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(sp =>
        {
            // A bad rules file throws here, with the line and key at fault; GovernanceRulesLoader makes that fail start-up.
            var provider = new GovernanceRulesProvider(configuration["Governance:RulesPath"], configuration["Governance:Taxonomy"]);
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Ingest.Governance");
            var metrics = sp.GetRequiredService<CollectorMetrics>();
            provider.Reloaded += error =>
            {
                metrics.GovernanceReloaded(rejected: error is not null);
                if (error is null)
                {
                    LogReloaded(logger, provider.Current.VersionStamp);
                }
                else
                {
                    LogRejected(logger, error);
                }
            };
            return provider;
        });
        services.AddSingleton<IGovernanceEvaluator>(sp =>
        {
            var provider = sp.GetRequiredService<GovernanceRulesProvider>();
            return new GovernanceEngine(() => provider.Current);
        });
        services.AddHostedService<GovernanceRulesLoader>();
        services.AddHealthChecks().AddReadinessCheck<GovernanceHealthCheck>("governance");
        return services;
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Governance rules reloaded (version {Version})")]
    private static partial void LogReloaded(ILogger logger, string version);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, Message = "Governance rules file rejected, previous rules stay in force: {Error}")]
    private static partial void LogRejected(ILogger logger, string error);
}

/// <summary>Loads the rules when the host starts, so a bad rules file fails start-up instead of the first request.</summary>
public sealed class GovernanceRulesLoader(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetRequiredService<GovernanceRulesProvider>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Healthy with the rules version in force; degraded (still ready) while the rules file on disk is rejected.</summary>
public sealed class GovernanceHealthCheck(GovernanceRulesProvider provider) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(provider.LastReloadError is { } error
            ? HealthCheckResult.Degraded($"rules version {provider.Current.VersionStamp} in force; the rules file was rejected: {error}")
            : HealthCheckResult.Healthy($"rules version {provider.Current.VersionStamp}"));
}
