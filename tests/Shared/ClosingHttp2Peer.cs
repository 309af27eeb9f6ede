using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Lanes.Testing;

/// <summary>
/// An HTTP/2 (h2c, prior knowledge) peer on 127.0.0.1 that does what a gracefully stopping server does to a stream it
/// has accepted but will not answer: on a request's HEADERS it sends GOAWAY with that stream as the last one and the
/// given error code, then closes the connection, so the request fails before any response header, and stops listening
/// (a stopping server closes its listener first: a reconnect is refused). Kestrel does this only in a narrow window of
/// its shutdown (found under load); this peer makes it happen to the first request it gets.
/// </summary>
internal sealed class ClosingHttp2Peer : IAsyncDisposable
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly uint _errorCode;
    private int _streams;

    /// <param name="errorCode">The GOAWAY's HTTP/2 error code: 0x0 NO_ERROR (a graceful close), 0x2 INTERNAL_ERROR, ...</param>
    public ClosingHttp2Peer(uint errorCode = 0x0)
    {
        _errorCode = errorCode;
        _listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = AcceptAsync();
    }

    public Uri Address { get; }

    /// <summary>How many requests (HEADERS frames) reached the peer and were closed on.</summary>
    public int Streams => Volatile.Read(ref _streams);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
                // stopped: disposed, or the peer stopped listening after closing on a request (InvalidOperationException)
                return;
            }

            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var _ = socket;
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        try
        {
            var preface = new byte[Preface.Length];
            await stream.ReadExactlyAsync(preface, _stop.Token);
            if (!preface.AsSpan().SequenceEqual(Preface))
            {
                return;
            }

            await WriteFrameAsync(stream, type: 0x4, flags: 0, streamId: 0, []);
            var header = new byte[9];
            while (true)
            {
                await stream.ReadExactlyAsync(header, _stop.Token);
                var length = (header[0] << 16) | (header[1] << 8) | header[2];
                var (type, flags) = (header[3], header[4]);
                var streamId = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(5)) & 0x7FFF_FFFF;
                var payload = new byte[length];
                await stream.ReadExactlyAsync(payload, _stop.Token);
                if (type == 0x4 && (flags & 0x1) == 0)
                {
                    await WriteFrameAsync(stream, type: 0x4, flags: 0x1, streamId: 0, []);
                }
                else if (type == 0x1)
                {
                    Interlocked.Increment(ref _streams);
                    var goAway = new byte[8];
                    BinaryPrimitives.WriteUInt32BigEndian(goAway, streamId);
                    BinaryPrimitives.WriteUInt32BigEndian(goAway.AsSpan(4), _errorCode);
                    _listener.Stop();
                    await WriteFrameAsync(stream, type: 0x7, flags: 0, streamId: 0, goAway);
                    socket.Shutdown(SocketShutdown.Send);
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or EndOfStreamException)
        {
            // the client went away first
        }
    }

    private async Task WriteFrameAsync(NetworkStream stream, byte type, byte flags, uint streamId, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(5), streamId);
        payload.CopyTo(frame, 9);
        await stream.WriteAsync(frame, _stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
