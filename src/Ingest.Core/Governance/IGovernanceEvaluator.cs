namespace Ingest.Core.Governance;

/// <summary>Normalizes and classifies one touch against the current governance rules.</summary>
public interface IGovernanceEvaluator
{
    GovernanceResult Evaluate(GovernanceInput input);
}
