using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Lanes.EndToEnd.Tests.Polyglot;

/// <summary>
/// The W3C trace-context validation suite (vendored in tests/w3c-trace-context) against a .NET service with Lanes and
/// OpenTelemetry tracing whose every request has a lane (the default lane): with <c>tracecontext</c> among the carriers,
/// Lanes adds its <c>tracestate</c> member to every outgoing call, and no test of the suite that passes without it fails.
/// </summary>
[Collection(ProcessWideHookGroup.Name)]
public sealed partial class TraceContextSuiteTests
{
    private const string Python = "/usr/bin/python3";

    [Fact]
    public async Task WithTheTraceStateCarrier_TheW3CSuiteIsNoWorseThanWithout()
    {
        Assert.True(File.Exists(Python), "Debian's python3 is missing: ./test.sh installs python3-aiohttp (and python3)");

        var without = await RunSuiteAsync("header, baggage");
        var with = await RunSuiteAsync("header, baggage, tracecontext");

        Assert.True(without.Results.Count >= 30, $"the suite ran {without.Results.Count} tests:\n{without.Output}");
        Assert.Equal(without.Results.Keys.Order(), with.Results.Keys.Order());
        var regressions = with.Results.Where(r => r.Value != "ok" && without.Results[r.Key] == "ok").Select(static r => r.Key).ToArray();
        Assert.True(regressions.Length == 0, $"failing only with tracecontext: {string.Join(", ", regressions)}\n{with.Output}");
        Assert.True(with.LaneMembersSeen > 0, "the service never sent the lane's tracestate member: the carrier was not exercised");
    }

    private static async Task<(Dictionary<string, string> Results, string Output, int LaneMembersSeen)> RunSuiteAsync(string propagators)
    {
        var laneMembers = 0;
        await using var service = await TestServers.StartAsync(
            b =>
            {
                b.Services.AddLanes(o =>
                {
                    o.DefaultLane = "green";
                    o.Propagators = propagators;
                });
                b.Services.AddHttpClient("harness").AddLanePropagation();
                b.Services.AddOpenTelemetry().WithLanes()
                    .WithTracing(static t => t.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddInMemoryExporter(new List<Activity>()));
            },
            app =>
            {
                app.UseLanes();

                // The suite's test service contract: POST a JSON array of {url, arguments}; POST each url with its arguments.
                app.MapPost("/test", async (HttpContext context, IHttpClientFactory factory) =>
                {
                    using var actions = await JsonDocument.ParseAsync(context.Request.Body);
                    var client = factory.CreateClient("harness");
                    foreach (var action in actions.RootElement.EnumerateArray())
                    {
                        using var call = new HttpRequestMessage(HttpMethod.Post, action.GetProperty("url").GetString())
                        {
                            Content = new StringContent(action.GetProperty("arguments").GetRawText(), System.Text.Encoding.UTF8, "application/json"),
                        };
                        using var answer = await client.SendAsync(call);
                        if (call.Headers.TryGetValues("tracestate", out var states) && states.Any(static s => s.StartsWith("x-lane=green", StringComparison.Ordinal)))
                        {
                            Interlocked.Increment(ref laneMembers);
                        }
                    }

                    return Results.Ok();
                });
            });

        var start = new ProcessStartInfo(Python)
        {
            WorkingDirectory = Path.Combine(RepositoryRoot.Path, "tests", "w3c-trace-context"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("test.py");
        start.ArgumentList.Add(new Uri(service.Address, "/test").ToString());
        start.Environment["HARNESS_PORT"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["SPEC_LEVEL"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Wait.Budget * 4);
        var output = await stdout + await stderr;
        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match match in ResultLine().Matches(output))
        {
            results[match.Groups["name"].Value] = match.Groups["result"].Value;
        }

        return (results, output, laneMembers);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // unittest at verbosity 2: "test_name (module.Class.test_name)", then the docstring's first line and " ... ok".
    [GeneratedRegex(@"^(?<name>test_\w+) \([^)\n]*\)\n[^\n]*? \.\.\. (?<result>ok|FAIL|ERROR|skipped)", RegexOptions.Multiline, 1000)]
    private static partial Regex ResultLine();
}
