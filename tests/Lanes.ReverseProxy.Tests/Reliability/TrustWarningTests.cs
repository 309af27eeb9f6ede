using Microsoft.AspNetCore.Hosting;

namespace Lanes.ReverseProxy.Tests.Reliability;

/// <summary>
/// A gateway that accepts client lanes (Trust Accept, the default) while listening beyond loopback lets anyone on the
/// network pick a lane: start-up says so once (warning 107), naming AcceptDeclared, Ignore and colouring rules.
/// </summary>
public sealed class TrustWarningTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5000", true)]
    [InlineData("http://127.0.0.2:5000", true)]
    [InlineData("http://[::1]:80", true)]
    [InlineData("http://localhost:8080", true)]
    [InlineData("http://0.0.0.0:80", false)]
    [InlineData("http://[::]:80", false)]
    [InlineData("http://+:80", false)]
    [InlineData("http://*:80", false)]
    [InlineData("https://10.1.2.3:443", false)]
    [InlineData("http://gateway.example.com:80", false)]
    [InlineData("not an address", false)]
    public void IsLoopback_OnlyLoopbackAddressesAndLocalhost(string address, bool loopback)
        => Assert.Equal(loopback, LaneGatewayStartupFilter.IsLoopback(address));

    [Theory]
    [InlineData("Accept", "http://0.0.0.0:0", true)]
    [InlineData("Accept", "http://127.0.0.1:0", false)]
    [InlineData("AcceptDeclared", "http://0.0.0.0:0", false)]
    [InlineData("Ignore", "http://0.0.0.0:0", false)]
    public async Task StartUp_WarnsOnlyWhenClientLanesAreAcceptedBeyondLoopback(string trust, string listen, bool warned)
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");

        // The warning is written while the host starts (when the server's addresses are known): nothing to wait for.
        await using var gateway = await Gateway.StartAsync(
            GatewayConfig.Mspider(green, yellow).Lanes("Trust", trust),
            configure: builder => builder.WebHost.UseUrls(listen));

        var warnings = gateway.Logs.Records.Where(static r => r.EventId.Id == 107).ToArray();
        Assert.Equal(warned ? 1 : 0, warnings.Length);
        if (warned)
        {
            Assert.Contains("0.0.0.0", warnings[0].Message, StringComparison.Ordinal);
            Assert.Contains("AcceptDeclared", warnings[0].Message, StringComparison.Ordinal);
            Assert.Contains("Ignore", warnings[0].Message, StringComparison.Ordinal);
            Assert.Contains("Lanes:Colouring", warnings[0].Message, StringComparison.Ordinal);
        }
    }
}
