using Ingest.Core.Governance;

namespace Ingest.Collector.Governance;

/// <summary>Registers the governance rules (<c>Governance:RulesPath</c>, <c>Governance:Taxonomy</c>) and the engine.</summary>
public static partial class GovernanceServiceCollectionExtensions
{
    public static IServiceCollection AddGovernance(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(sp =>
        {
            // A bad rules file fails start-up with the line and key at fault.
            var provider = new GovernanceRulesProvider(configuration["Governance:RulesPath"], configuration["Governance:Taxonomy"]);
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Ingest.Governance");
            provider.Reloaded += error =>
            {
                if (error is null)
                {
                    LogReloaded(logger, provider.Current.Version);
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
        return services;
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Governance rules reloaded (version {Version})")]
    private static partial void LogReloaded(ILogger logger, string version);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, Message = "Governance rules file rejected, previous rules stay in force: {Error}")]
    private static partial void LogRejected(ILogger logger, string error);
}
