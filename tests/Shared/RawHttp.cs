using System.Net.Sockets;
using System.Text;

namespace Lanes.Testing;

/// <summary>What came back on the wire: the status, the header block as text and the (de-chunked) body.</summary>
internal sealed record RawResponse(int Status, string Head, byte[] Body)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    /// <summary>True when <paramref name="needle"/> appears in the head or the body (the body read as Latin-1 bytes and as UTF-8 text).</summary>
    public bool Contains(string needle)
        => Head.Contains(needle, StringComparison.Ordinal)
            || Encoding.Latin1.GetString(Body).Contains(needle, StringComparison.Ordinal)
            || BodyText.Contains(needle, StringComparison.Ordinal);

    /// <summary>The value of the first response header named <paramref name="name"/>, or null.</summary>
    public string? Header(string name)
    {
        foreach (var line in Head.Split("\r\n"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && string.Equals(line[..colon].Trim(), name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }
}

/// <summary>
/// HTTP/1.1 over a plain socket, so a test can send bytes no HTTP client would (CR, LF, NUL, non-UTF-8, 100 repeated
/// headers) and see exactly what the server answers.
/// </summary>
internal static class RawHttp
{
    public static async Task<RawResponse> GetAsync(Uri server, string path, IEnumerable<(string Name, byte[] Value)> headers, CancellationToken cancellationToken = default)
    {
        using var request = new MemoryStream();
        void Write(string text) => request.Write(Encoding.ASCII.GetBytes(text));
        Write($"GET {path} HTTP/1.1\r\nHost: {server.Authority}\r\nConnection: close\r\n");
        foreach (var (name, value) in headers)
        {
            request.Write(Encoding.UTF8.GetBytes(name));
            Write(": ");
            request.Write(value);
            Write("\r\n");
        }

        Write("\r\n");

        // A server that refuses a request (400, 431) may close with unread request bytes, which resets the connection;
        // the answer is read while the request is still being written, and a reset before any byte arrived is retried.
        for (var attempt = 1; ; attempt++)
        {
            using var client = new TcpClient();
            await client.ConnectAsync(server.Host, server.Port, cancellationToken);
            var stream = client.GetStream();
            using var received = new MemoryStream();
            var reading = stream.CopyToAsync(received, cancellationToken);
            try
            {
                await stream.WriteAsync(request.ToArray(), cancellationToken);
            }
            catch (IOException)
            {
                // The server stopped reading and answered already; the answer is on its way.
            }

            try
            {
                await reading;
            }
            catch (IOException) when (received.Length > 0 || attempt < 3)
            {
            }

            if (received.Length > 0)
            {
                return Parse(received.ToArray());
            }

            if (attempt == 3)
            {
                throw new IOException($"No answer from {server} after {attempt} attempts.");
            }
        }
    }

    /// <summary>A header value as UTF-8 bytes.</summary>
    public static (string Name, byte[] Value) H(string name, string value) => (name, Encoding.UTF8.GetBytes(value));

    private static RawResponse Parse(byte[] bytes)
    {
        var text = Encoding.Latin1.GetString(bytes);
        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (headEnd < 0)
        {
            throw new InvalidOperationException($"No complete response ({bytes.Length} bytes): {text[..Math.Min(200, text.Length)]}");
        }

        var head = text[..headEnd];
        var status = int.Parse(head.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        var body = bytes.AsSpan(headEnd + 4).ToArray();
        var response = new RawResponse(status, head, body);
        if (string.Equals(response.Header("Transfer-Encoding"), "chunked", StringComparison.OrdinalIgnoreCase))
        {
            response = response with { Body = Dechunk(body) };
        }

        return response;
    }

    private static byte[] Dechunk(byte[] body)
    {
        using var output = new MemoryStream();
        var position = 0;
        while (position < body.Length)
        {
            var lineEnd = Array.IndexOf(body, (byte)'\n', position);
            var sizeText = Encoding.ASCII.GetString(body, position, lineEnd - position).Trim().Split(';')[0];
            var size = Convert.ToInt32(sizeText, 16);
            if (size == 0)
            {
                break;
            }

            output.Write(body, lineEnd + 1, size);
            position = lineEnd + 1 + size + 2;
        }

        return output.ToArray();
    }
}
