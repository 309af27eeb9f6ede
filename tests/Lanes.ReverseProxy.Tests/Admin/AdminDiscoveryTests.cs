using System.Net;
using System.Text.Json;
using Lanes.ReverseProxy.Admin;
using Lanes.ServiceDiscovery;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
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
        using var discovery = new BreakableProviderFactory("details", yellow.Address);
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

        // The provider breaks and its token fires: the refresh fails, the snapshot of the last good refresh serves.
        discovery.Break();
        var stale = await Wait.ForAsync(
            async () => Assert.Single((await ReportAsync()).Discovery),
            static d => d.FailingSince is not null,
            "the report to show details failing",
            describe: static d => $"failingSince {d.FailingSince}, failure {d.Failure}");
        Assert.Contains("the provider is broken", stale.Failure, StringComparison.Ordinal);
        Assert.Equal(current.Refreshed, stale.Refreshed);
        Assert.Equal(1, stale.Instances);
        var (after, echo) = await gateway.SendAsync("/x", ("x-mspider-lane", "yellow"));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal("yellow", echo!.Instance);
    }

    /// <summary>One instance of one service (lane yellow); once broken, resolving it throws, and its token fires.</summary>
    private sealed class BreakableProviderFactory(string service, Uri address) : IServiceEndpointProviderFactory, IDisposable
    {
        private readonly CancellationTokenSource _changes = new();
        private volatile bool _broken;

        public void Break()
        {
            _broken = true;
            _changes.Cancel();
        }

        public void Dispose() => _changes.Dispose();

        public bool TryCreateProvider(ServiceEndpointQuery query, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IServiceEndpointProvider? provider)
        {
            provider = query.ServiceName == service ? new Provider(this) : null;
            return provider is not null;
        }

        private sealed class Provider(BreakableProviderFactory owner) : IServiceEndpointProvider
        {
            public ValueTask PopulateAsync(IServiceEndpointBuilder endpoints, CancellationToken cancellationToken)
            {
                if (owner._broken)
                {
                    throw new InvalidOperationException("the provider is broken");
                }

                var endpoint = ServiceEndpoint.Create(new IPEndPoint(IPAddress.Loopback, owner.Port));
                endpoint.Features.Set<ILaneEndpointFeature>(new LaneEndpointFeature("yellow", "a"));
                endpoints.Endpoints.Add(endpoint);
                endpoints.AddLaneChangeToken(new CancellationChangeToken(owner._changes.Token));
                return default;
            }

            public ValueTask DisposeAsync() => default;
        }

        private int Port => address.Port;
    }
}
