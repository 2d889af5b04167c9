namespace Ingest.Testing;

/// <summary>Why a service's test host did not start.</summary>
public static class StartFailure
{
    /// <summary>
    /// The exception starting a new host from <paramref name="create"/> with <paramref name="start"/> threw, or null when
    /// it started. WebApplicationFactory can lose a race with the entry point's own failing start and report the disposed
    /// service provider instead of the failure (dotnet/aspnetcore#33494; seen once in a full run on 2 cores): such an
    /// answer is asked again with a new host, five times at most.
    /// </summary>
    public static Exception? Of<THost>(Func<THost> create, Action<THost> start)
        where THost : IDisposable
    {
        for (var attempt = 1; ; attempt++)
        {
            using var host = create();
            try
            {
                start(host);
                return null;
            }
            catch (ObjectDisposedException) when (attempt < 5)
            {
            }
            catch (Exception ex)
            {
                return ex;
            }
        }
    }
}
