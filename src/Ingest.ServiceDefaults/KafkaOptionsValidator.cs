using Microsoft.Extensions.Options;

namespace Ingest.ServiceDefaults;

/// <summary>Fails start-up on a Kafka setting that cannot work, naming the setting.</summary>
public sealed class KafkaOptionsValidator : IValidateOptions<KafkaOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaOptions options)
    {
        var failures = new List<string>();
        void Required(string? value, string setting)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                failures.Add($"{KafkaOptions.Section}:{setting} is required.");
            }
        }

        Required(options.BootstrapServers, nameof(options.BootstrapServers));
        Required(options.TouchTopic, nameof(options.TouchTopic));
        Required(options.DeadLetterTopic, nameof(options.DeadLetterTopic));
        Required(options.OutcomeTopic, nameof(options.OutcomeTopic));
        Required(options.OutcomeDeadLetterTopic, nameof(options.OutcomeDeadLetterTopic));
        if (options.MetadataTimeoutMs is < 100 or > 60_000)
        {
            failures.Add($"{KafkaOptions.Section}:{nameof(options.MetadataTimeoutMs)} must be between 100 and 60000 (it is {options.MetadataTimeoutMs}).");
        }

        foreach (var (key, value) in options.Client)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                failures.Add($"{KafkaOptions.Section}:Client:{key} has no value.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
