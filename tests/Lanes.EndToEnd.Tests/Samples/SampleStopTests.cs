using System.Net;

namespace Lanes.EndToEnd.Tests.Samples;

/// <summary>samples/Gateway and samples/QuickStart stop as the demo does: SIGTERM or SIGINT, exit 0 within 5 s.</summary>
public sealed class SampleStopTests
{
    private static readonly TimeSpan StopWithin = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(SampleProcess.SigTerm)]
    [InlineData(SampleProcess.SigInt)]
    public async Task Gateway_Serving_StopsOnSignalWithExitZero(int signal)
    {
        using var gateway = SampleProcess.Start("Gateway", "--urls", "http://127.0.0.1:0");
        var address = (await gateway.WaitForOutputAsync(@"Now listening on: (http://127\.0\.0\.1:\d+)")).Groups[1].Value;
        using (var client = new HttpClient())
        {
            // The sample maps the admin endpoint: it serves before it is stopped.
            using var admin = await client.GetAsync(new Uri(address + "/lanes"));
            Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        }

        gateway.Signal(signal);
        var exit = await gateway.WaitForExitAsync(StopWithin);

        Assert.True(exit is not null, $"still running {StopWithin.TotalSeconds} s after signal {signal}\n{gateway.Stdout}");
        Assert.Equal(0, exit.Value.ExitCode);
        Assert.Contains("Application is shutting down...", gateway.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SampleProcess.SigTerm)]
    [InlineData(SampleProcess.SigInt)]
    public async Task QuickStart_Serving_StopsOnSignalWithExitZero(int signal)
    {
        using var quickStart = SampleProcess.Start("QuickStart", "--serve");
        var address = (await quickStart.WaitForOutputAsync(@"^Serving; try: curl -H 'x-mspider-laneid: yellow' (http://127\.0\.0\.1:\d+/)")).Groups[1].Value;
        Assert.Contains("Every hop saw the expected lane.", quickStart.Stdout, StringComparison.Ordinal);
        using (var client = new HttpClient())
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, address);
            request.Headers.Add("x-mspider-laneid", "yellow");
            using var response = await client.SendAsync(request);
            Assert.Contains("\"lane\":\"yellow\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        quickStart.Signal(signal);
        var exit = await quickStart.WaitForExitAsync(StopWithin);

        Assert.True(exit is not null, $"still running {StopWithin.TotalSeconds} s after signal {signal}\n{quickStart.Stdout}");
        Assert.Equal(0, exit.Value.ExitCode);
        Assert.EndsWith("Stopped.\n", quickStart.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", quickStart.Stderr, StringComparison.Ordinal);
    }
}
