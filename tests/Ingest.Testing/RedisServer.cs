using StackExchange.Redis;
using Xunit;

namespace Ingest.Testing;

/// <summary>A connection to the real local Redis with a unique key prefix for the test's keys.</summary>
public sealed class RedisServer : IAsyncLifetime
{
    private ConnectionMultiplexer? _connection;

    public string ConnectionString => TestEnvironment.RedisConnectionString;

    public string KeyPrefix { get; } = TestEnvironment.UniqueName("t") + ":";

    public IConnectionMultiplexer Connection => _connection ?? throw new InvalidOperationException("Redis not connected");

    public async Task InitializeAsync() =>
        _connection = await ConnectionMultiplexer.ConnectAsync(ConnectionString + ",allowAdmin=true");

    /// <summary>Deletes every key under this fixture's prefix (what "flushing Redis" means for one test).</summary>
    public async Task FlushPrefixAsync()
    {
        var server = Connection.GetServers()[0];
        var db = Connection.GetDatabase();
        await foreach (var key in server.KeysAsync(pattern: KeyPrefix + "*", pageSize: 1000))
        {
            await db.KeyDeleteAsync(key);
        }
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await FlushPrefixAsync();
            await _connection.DisposeAsync();
        }
    }
}
