using Ingest.Storage;
using Microsoft.Extensions.Options;

namespace Ingest.Collector.Leads;

/// <summary>The read API's database (<c>ConnectionStrings:Postgres</c>), checked at start rather than on the first read.</summary>
public sealed class ReadStoreOptions
{
    public string? Postgres { get; set; }
}

/// <summary>No built-in fallback: local defaults come from run.sh and appsettings.Development.json.</summary>
public sealed class ReadStoreOptionsValidator : IValidateOptions<ReadStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, ReadStoreOptions options) =>
        string.IsNullOrWhiteSpace(options.Postgres)
            ? ValidateOptionsResult.Fail(
                $"ConnectionStrings:{StorageServiceCollectionExtensions.ConnectionStringName} is not set: give the Postgres connection string (environment variable ConnectionStrings__{StorageServiceCollectionExtensions.ConnectionStringName}).")
            : ValidateOptionsResult.Success;
}
