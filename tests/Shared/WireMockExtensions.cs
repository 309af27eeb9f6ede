using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace Lanes.Testing;

internal static class Upstreams
{
    /// <summary>A WireMock.Net upstream on loopback that answers 200 "ok" to anything.</summary>
    public static WireMockServer Start()
    {
        var server = WireMockServer.Start(new WireMockServerSettings { Urls = ["http://127.0.0.1:0"] });
        server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithBody("ok"));
        return server;
    }

    /// <summary>
    /// The value of <paramref name="header"/> (repeated values joined by ", ") on each request the upstream
    /// received for <paramref name="path"/>, in order; null where the request did not carry it.
    /// </summary>
    public static IReadOnlyList<string?> ReceivedHeader(this WireMockServer server, string path, string header)
    {
        var result = new List<string?>();
        foreach (var entry in server.LogEntries)
        {
            if (!string.Equals(entry.RequestMessage.Path, path, StringComparison.Ordinal))
            {
                continue;
            }

            string? values = null;
            foreach (var pair in entry.RequestMessage.Headers ?? new Dictionary<string, WireMock.Types.WireMockList<string>>())
            {
                if (string.Equals(pair.Key, header, StringComparison.OrdinalIgnoreCase))
                {
                    values = string.Join(", ", pair.Value);
                }
            }

            result.Add(values);
        }

        return result;
    }

    /// <summary>Waits until the upstream received <paramref name="count"/> requests for <paramref name="path"/> (for fire-and-forget calls).</summary>
    public static Task WaitForRequestsAsync(this WireMockServer server, string path, int count = 1)
        => Wait.UntilAsync(
            () => server.LogEntries.Count(e => string.Equals(e.RequestMessage.Path, path, StringComparison.Ordinal)) >= count,
            $"the upstream to receive {count} request(s) for {path}",
            () => string.Join(", ", server.LogEntries.Select(static e => e.RequestMessage.Path)));
}
