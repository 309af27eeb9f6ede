using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Bookinfo;

using Lanes.Testing;

namespace Lanes.EndToEnd.Tests.Samples;

/// <summary>
/// samples/Demo as a user runs it, in its own process: every scenario serves and answers as its table says; SIGTERM
/// and SIGINT stop it within 5 s with exit code 0 and free its ports; a busy port and bad arguments exit 2 with one
/// line and no stack trace.
/// </summary>
public sealed class DemoProcessTests
{
    private static readonly TimeSpan StopWithin = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData("mspider", SampleProcess.SigTerm)]
    [InlineData("hango", SampleProcess.SigTerm)]
    [InlineData("mspider", SampleProcess.SigInt)]
    [InlineData("hango", SampleProcess.SigInt)]
    public async Task Demo_Serving_AnswersAsItsTableSays_AndStopsOnSignalWithExitZero(string name, int signal)
    {
        Assert.True(Scenario.TryGet(name, out var scenario));
        using var demo = SampleProcess.Start("Demo", "--scenario", name, "--port", "0");
        var gateway = new Uri((await demo.WaitForOutputAsync(@"gateway on (http://127\.0\.0\.1:\d+/)")).Groups[1].Value);
        await demo.WaitForOutputAsync("^Stop with Ctrl\\+C or SIGTERM");
        var ports = PortsOf(demo.Stdout);
        Assert.Equal(scenario.Instances.Count + 1, ports.Count);        // every instance and the gateway
        Assert.Contains(DemoRunner.Legend, demo.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("expected:", demo.Stdout, StringComparison.Ordinal);

        // While it serves, each example request through the gateway answers as the scenario's row expects.
        using (var client = new HttpClient { BaseAddress = gateway })
        {
            foreach (var row in scenario.Rows)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, scenario.EntryPath);
                foreach (var (header, value) in row.Headers)
                {
                    request.Headers.TryAddWithoutValidation(header, value);
                }

                using var response = await client.SendAsync(request);
                var tree = response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<HopResult>(HopResult.Json) : null;
                Assert.True(DemoRunner.Matches(row, (int)response.StatusCode, tree), $"row '{row.Name}' answered {(int)response.StatusCode}");
            }
        }

        await StopsCleanlyAsync(demo, signal);
        // The process is gone, so its listeners are; another test's client may briefly reuse a freed ephemeral port,
        // so each port is waited for rather than looked at once.
        foreach (var port in ports)
        {
            await Wait.UntilAsync(() => IsFree(port), $"port {port} to be free after the demo exited", static () => "still bound");
        }
    }

    /// <summary>
    /// The shadow scenario (issue 44's "done when"): clients see only the primary's answers, the candidate's changed
    /// field is reported, and the field two green answers also differ in is noise.
    /// </summary>
    [Fact]
    public async Task Demo_ShadowOnce_PrintsTheDifferenceFoundAndTheNoiseExcluded_AndExitsZero()
    {
        using var demo = SampleProcess.Start("Demo", "--scenario", "shadow", "--once", "--port", "0");
        var exit = await demo.WaitForExitAsync(TimeSpan.FromSeconds(90));

        Assert.True(exit is not null, $"still running\n{demo.Stdout}\n{demo.Stderr}");
        Assert.Equal(0, exit.Value.ExitCode);
        Assert.Contains("Clients got price 10 on all 20 answers", demo.Stdout, StringComparison.Ordinal);
        Assert.Contains("Mirrored to yellow and compared: 20; dropped: 0.", demo.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"differs: price\s+20x\s+e\.g\. 10 -> 12", demo.Stdout);
        Assert.Contains("noise (green vs green, excluded): at", demo.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("differs: at", demo.Stdout, StringComparison.Ordinal);
        Assert.Equal(string.Empty, demo.Stderr);
    }

    /// <summary>The shadow scenario serving: it mirrors what it is sent, and SIGTERM or SIGINT stops it with exit code 0.</summary>
    [Theory]
    [InlineData(SampleProcess.SigTerm)]
    [InlineData(SampleProcess.SigInt)]
    public async Task Demo_ShadowServing_MirrorsAndStopsOnSignalWithExitZero(int signal)
    {
        using var demo = SampleProcess.Start("Demo", "--scenario", "shadow", "--port", "0");
        var gateway = new Uri((await demo.WaitForOutputAsync(@"gateway on (http://127\.0\.0\.1:\d+/)")).Groups[1].Value);
        await demo.WaitForOutputAsync("^Stop with Ctrl\\+C or SIGTERM");
        using (var client = new HttpClient { BaseAddress = gateway })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/reviews/2", UriKind.Relative))).StatusCode);
            await Wait.UntilAsync(
                async () => (await client.GetStringAsync(new Uri("/lanes", UriKind.Relative))).Contains("\"mirrored\":21", StringComparison.Ordinal),
                "the request sent while serving to be mirrored and compared (21 with the demo's 20)");
        }

        await StopsCleanlyAsync(demo, signal);
    }

    /// <summary>Sends <paramref name="signal"/> and asserts the demo stopped within <see cref="StopWithin"/>: exit code 0, "Stopped." last, nothing on stderr.</summary>
    private static async Task StopsCleanlyAsync(SampleProcess demo, int signal)
    {
        demo.Signal(signal);
        var exit = await demo.WaitForExitAsync(StopWithin);

        Assert.True(exit is not null, $"still running {StopWithin.TotalSeconds} s after signal {signal}\n{demo.Stdout}\n{demo.Stderr}");
        Assert.Equal(0, exit.Value.ExitCode);
        Assert.EndsWith("Stopped.\n", demo.Stdout, StringComparison.Ordinal);
        Assert.Equal(string.Empty, demo.Stderr);
    }

    [Fact]
    public async Task Demo_BusyPort_ExitsTwoWithOneLineNamingThePortAndPortZero()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;

        using var demo = SampleProcess.Start("Demo", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var exit = await demo.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit?.ExitCode);
        var line = Assert.Single(demo.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"port {port}", line, StringComparison.Ordinal);
        Assert.Contains("--port 0", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", demo.Stdout + demo.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", demo.Stdout + demo.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("unknown scenario 'istio'", "--scenario", "istio")]
    [InlineData("--port takes a number", "--port", "http")]
    [InlineData("--port takes a number", "--port", "70000")]
    [InlineData("--port needs a value", "--port")]
    [InlineData("unknown argument '--verbose'", "--verbose")]
    public async Task Demo_BadArguments_PrintTheUsageAndExitTwo(string problem, params string[] args)
    {
        using var demo = SampleProcess.Start("Demo", args);
        var exit = await demo.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, exit?.ExitCode);
        Assert.StartsWith("demo: " + problem, demo.Stderr, StringComparison.Ordinal);
        Assert.Contains("usage: dotnet run --project samples/Demo -- [--scenario mspider|hango|shadow] [--port N] [--once]", demo.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", demo.Stdout + demo.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, demo.Stdout);
    }

    /// <summary>The gateway's and every instance's port, from the lines the demo prints at start.</summary>
    private static List<int> PortsOf(string output)
        => [.. System.Text.RegularExpressions.Regex.Matches(output, @"http://127\.0\.0\.1:(\d+)/?\s*$|gateway on http://127\.0\.0\.1:(\d+)/", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(static m => int.Parse(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture))
            .Distinct()];

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
