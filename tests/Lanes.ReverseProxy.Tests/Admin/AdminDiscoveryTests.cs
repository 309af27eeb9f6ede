using System.Net;
using System.Text.Json;
using Lanes.ReverseProxy.Admin;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ServiceDiscovery;

namespace Lanes.ReverseProxy.Tests.Admin;

/// <summary>
/// A discovery refresh that fails keeps the last good instances serving (fail closed) and says so on the admin page:
/// the report's <c>discovery</c> lists the service as failing, since when and why, next to when its serving snapshot
/// was built (docs/admin-report.md).
/// </summary>
public sealed class AdminDiscoveryTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task FailingRefresh_TheLastGoodInstanceKeepsServing_AndTheReportSaysStaleSinceWhenAndWhy()
    {
        await using var yellow = await Upstream.StartAsync("yellow");
        using var discovery = new SwitchableDiscoveryProvider("details", yellow.Address.Port, "yellow");
        var config = new GatewayConfig()
            .Lanes("Preset", "mspider")
            .Route("details", "details")
            .Set("ReverseProxy:Clusters:details:Destinations:d:Address", "http://details");
        await using var gateway = await Gateway.StartAsync(
            config,
            configure: b => b.Services.AddSingleton<IServiceEndpointProviderFactory>(discovery),
            configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());
        using var client = gateway.CreateClient();
        async Task<AdminReport> ReportAsync() => JsonSerializer.Deserialize<AdminReport>(await client.GetStringAsync(new Uri("/lanes", UriKind.Relative)), Web)!;

        var (first, _) = await gateway.SendAsync("/x", ("x-mspider-lane", "yellow"));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var current = Assert.Single((await ReportAsync()).Discovery);
        Assert.Equal(("details", "http", true, 1), (current.Service, current.Scheme, current.Known, current.Instances));
        Assert.NotNull(current.Refreshed);
        Assert.Null(current.FailingSince);

        // The provider breaks and its token fires: the refresh fails, the snapshot of the last good refresh serves. Its
        // message is long and carries CR/LF: the report keeps the first 200 characters, as JSON-escaped text.
        var hostile = "the provider is broken\r\nx-injected: 1 " + new string('x', 500);
        discovery.Fail(hostile);
        var stale = await Wait.ForAsync(
            async () => Assert.Single((await ReportAsync()).Discovery),
            static d => d.FailingSince is not null,
            "the report to show details failing",
            describe: static d => $"failingSince {d.FailingSince}, failure {d.Failure}");
        Assert.StartsWith("InvalidOperationException: the provider is broken\r\nx-injected: 1 ", stale.Failure, StringComparison.Ordinal);
        Assert.Equal(200, stale.Failure!.Length);
        Assert.Equal(current.Refreshed, stale.Refreshed);
        Assert.Equal(1, stale.Instances);
        var (after, echo) = await gateway.SendAsync("/x", ("x-mspider-lane", "yellow"));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal("yellow", echo!.Instance);
    }
}
