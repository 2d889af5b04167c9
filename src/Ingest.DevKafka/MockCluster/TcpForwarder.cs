using System.Net;
using System.Net.Sockets;

namespace Ingest.DevKafka.MockCluster;

/// <summary>
/// Listens on a fixed loopback port and pipes every connection to a mock broker's random port, so clients can use a
/// stable bootstrap address (the mock itself only binds ephemeral ports). Tests also use it as a proxy they can cut.
/// </summary>
public sealed class TcpForwarder : IAsyncDisposable
{
    private const int BufferSize = 64 * 1024;
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;

    public TcpForwarder(IPEndPoint listenOn, IPEndPoint target)
    {
        _target = target;
        _listener = new TcpListener(listenOn);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start(512);
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            _ = PipeAsync(client);
        }
    }

    private async Task PipeAsync(Socket client)
    {
        using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await upstream.ConnectAsync(_target, _stop.Token);
            await using var clientStream = new NetworkStream(client, ownsSocket: false);
            await using var upstreamStream = new NetworkStream(upstream, ownsSocket: false);
            var toBroker = clientStream.CopyToAsync(upstreamStream, BufferSize, _stop.Token);
            var toClient = upstreamStream.CopyToAsync(clientStream, BufferSize, _stop.Token);
            await Task.WhenAny(toBroker, toClient);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            // A broker taken down closes its side; the client sees the same disconnect a real broker would cause.
        }
        finally
        {
            client.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        _stop.Dispose();
    }
}
