using System.Collections.Concurrent;
using System.Text.Json;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Lanes.EndToEnd.Tests.Reliability;

/// <summary>What an upstream behind the gateway received for one request.</summary>
internal sealed record Received(string Instance, string Path, StringValues LaneHeader, IReadOnlyList<string> LaneMembers, StringValues Alias);

/// <summary>
/// The two places bad input arrives, started once for the bad-input tests: a Lanes service (preset <c>mspider</c>, the
/// defaults) and a Lanes gateway (preset <c>mspider</c>, a regex colouring rule <c>x-user</c> ~ <c>(a+)+b</c> → yellow)
/// in front of a green and a yellow upstream that record what they received, keyed by <c>x-test-id</c>.
/// </summary>
public sealed class BadInputTargets : IAsyncLifetime
{
    public const string TestId = "x-test-id";

    internal ConcurrentDictionary<string, Received> Upstream { get; } = new();

    internal RunningServer Service { get; private set; } = null!;

    internal RunningServer Gateway { get; private set; } = null!;

    private RunningServer _green = null!;
    private RunningServer _yellow = null!;

    public async Task InitializeAsync()
    {
        _green = await StartUpstreamAsync("green");
        _yellow = await StartUpstreamAsync("yellow");
        Service = await LaneServers.StartServiceAsync();
        Gateway = await LaneServers.StartGatewayAsync(_green.Address, _yellow.Address, "{**catch-all}", new Dictionary<string, string?>
        {
            ["Colouring:0:Lane"] = "yellow",
            ["Colouring:0:Header"] = "x-user",
            ["Colouring:0:Match"] = "Regex",
            ["Colouring:0:Value"] = "(a+)+b",
        });
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Service.DisposeAsync();
        await _yellow.DisposeAsync();
        await _green.DisposeAsync();
    }

    private Task<RunningServer> StartUpstreamAsync(string name) => TestServers.StartAsync(null, app => app.Map("/{**rest}", (HttpContext context) =>
    {
        var members = new List<string>();
        foreach (var header in context.Request.Headers["baggage"])
        {
            foreach (var member in (header ?? string.Empty).Split(','))
            {
                var trimmed = member.Trim();
                if (trimmed.StartsWith("x-mspider-lane", StringComparison.Ordinal))
                {
                    members.Add(trimmed);
                }
            }
        }

        Upstream[context.Request.Headers[TestId].ToString()] = new Received(
            name, context.Request.Path.Value ?? string.Empty, context.Request.Headers["x-mspider-lane"], members, context.Request.Headers["x-mspider-laneid"]);
        return Results.Text("served by " + name);
    }));

    /// <summary>The lane the service reported, from its JSON answer.</summary>
    internal static string? ServiceLane(RawResponse response)
        => JsonDocument.Parse(response.Body).RootElement.GetProperty("lane").GetString();
}
