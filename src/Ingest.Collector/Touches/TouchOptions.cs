using Ingest.Core.Touches;
using Microsoft.Extensions.Options;
using PhoneNumbers;

namespace Ingest.Collector.Touches;

/// <summary>Setting names of the touch limits and phone region, for messages that name what to fix.</summary>
public static class TouchSettings
{
    public const string LimitsSection = "Collector:Limits";
    public const string DefaultPhoneRegion = "Collector:DefaultPhoneRegion";
}

/// <summary>The region assumed for phone numbers without a country code (<c>Collector:DefaultPhoneRegion</c>).</summary>
public sealed class PhoneRegionOptions
{
    public string DefaultPhoneRegion { get; set; } = "US";
}

/// <summary>The region must be one libphonenumber knows (ISO 3166 alpha-2, like US or GB).</summary>
public sealed class PhoneRegionOptionsValidator : IValidateOptions<PhoneRegionOptions>
{
    public ValidateOptionsResult Validate(string? name, PhoneRegionOptions options) =>
        PhoneNumberUtil.GetInstance().GetSupportedRegions().Contains(options.DefaultPhoneRegion)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{TouchSettings.DefaultPhoneRegion} '{options.DefaultPhoneRegion}' is not a region libphonenumber knows; use an upper-case ISO 3166 code like US or GB.");
}

/// <summary>Every limit must leave room for a touch: positive sizes, a non-negative skew.</summary>
public sealed class TouchLimitsValidator : IValidateOptions<TouchLimits>
{
    public ValidateOptionsResult Validate(string? name, TouchLimits options)
    {
        var failures = new List<string>();
        if (options.MaxFutureSkew < TimeSpan.Zero)
        {
            failures.Add($"{TouchSettings.LimitsSection}:{nameof(options.MaxFutureSkew)} must not be negative (it is {options.MaxFutureSkew}).");
        }

        if (options.MinOccurredAt > DateTimeOffset.UtcNow)
        {
            failures.Add($"{TouchSettings.LimitsSection}:{nameof(options.MinOccurredAt)} is in the future; no touch could be accepted.");
        }

        void Positive(int value, string setting)
        {
            if (value < 1)
            {
                failures.Add($"{TouchSettings.LimitsSection}:{setting} must be at least 1 (it is {value}).");
            }
        }

        Positive(options.MaxPropertiesBytes, nameof(options.MaxPropertiesBytes));
        Positive(options.MaxIdentityLength, nameof(options.MaxIdentityLength));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
