using System.Net;
using System.Net.Sockets;
using Lanes.EndToEnd.Tests.Samples;

namespace Lanes.Kubernetes.Tests;

/// <summary>samples/KubernetesGateway's command line: a busy port and bad arguments end with one line and exit 2.</summary>
public sealed class KubernetesGatewayArgumentsTests
{
    [Fact]
    public async Task BusyPort_OneLineNamingThePortAndTheWayOut_Exit2()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        using var gateway = SampleProcess.Start("KubernetesGateway", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var exit = await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, exit?.ExitCode);
        var line = Assert.Single(gateway.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"port {port}", line, StringComparison.Ordinal);
        Assert.Contains("--port 0", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--labels", "istio")]
    [InlineData("--port", "http")]
    [InlineData("--verbose")]
    public async Task BadArguments_PrintTheUsage_Exit2(params string[] args)
    {
        using var gateway = SampleProcess.Start("KubernetesGateway", args);
        var exit = await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, exit?.ExitCode);
        Assert.Contains("usage: dotnet run --project samples/KubernetesGateway", gateway.Stderr, StringComparison.Ordinal);
    }
}
