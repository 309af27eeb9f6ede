using System.Net;
using Lanes.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;

namespace Lanes.ServiceDiscovery.Tests;

/// <summary>
/// <see cref="LaneServiceEndpoints"/> reads the service-discovery providers itself (the read adapter), in discovery's
/// order, and owns each service's state: no second watcher over discovery's, and none of discovery's ambiguities.
/// </summary>
public sealed class ReadAdapterTests
{
    [Fact]
    public async Task ProviderRegisteredAfterAddServiceDiscovery_StillAnswersBeforePassThrough_SoTheNameIsNeverAnUnlabelledBaseline()
    {
        // A provider added after AddServiceDiscovery() (as DNS SRV or a custom one is) is behind pass-through in
        // registration order. Discovery runs pass-through last, and so must Lanes: read in registration order, the
        // name itself (a Service's virtual IP in Kubernetes) would be added first and serve as an unlabelled baseline.
        using var custom = new SwitchableDiscoveryProvider("details", 5001, "yellow");
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(Fleet.NsfLanes).Build());
        services.AddServiceDiscovery();
        services.AddSingleton<IServiceEndpointProviderFactory>(custom);
        services.AddLaneServiceEndpoints();
        await using var provider = services.BuildServiceProvider();
        var endpoints = provider.GetRequiredService<LaneServiceEndpoints>();

        var snapshot = await endpoints.GetAsync("http", "details", CancellationToken.None);

        var instance = Assert.Single(snapshot!.Definition.Instances);
        Assert.Equal("yellow", instance.Lane);
        Assert.Equal(new Uri("http://127.0.0.1:5001/"), instance.Address);
        Assert.Equal(1, custom.Asked);
    }

    [Fact]
    public async Task ProviderThatThrowsInvalidOperation_IsAFailedReading_NotAnUnknownNameWhoseCallsGoOutUnrouted()
    {
        // Through discovery's resolver, InvalidOperationException also meant "no provider for this name", and Lanes
        // then left the calls alone for a refresh period (unrouted: fail open). Read directly, "no provider" is known
        // from the providers themselves, and a provider's exception is a failure the caller sees.
        using var failing = new SwitchableDiscoveryProvider("details", 5001, "yellow");
        failing.Fail("the registry is down");
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(Fleet.NsfLanes).Build());
        services.AddSingleton<IServiceEndpointProviderFactory>(failing);
        services.AddLaneServiceEndpoints();
        await using var provider = services.BuildServiceProvider();
        var endpoints = provider.GetRequiredService<LaneServiceEndpoints>();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => endpoints.GetAsync("http", "details", CancellationToken.None).AsTask());
        Assert.Equal("the registry is down", error.Message);
        Assert.DoesNotContain(endpoints.GetStatuses(), static s => s.Service == "details" && !s.IsKnown);

        // And a name no provider takes is still "unknown" (left alone), told apart without an exception.
        Assert.Null(await endpoints.GetAsync("http", "nobody-knows", CancellationToken.None));
        Assert.False(endpoints.GetStatuses().Single(static s => s.Service == "nobody-knows").IsKnown);
    }

    [Fact]
    public async Task ReadingStartedInsideARequest_RunsWithoutTheRequestsLane()
    {
        // The first call to a service starts its reading; the provider (and the watch and later readings it starts)
        // must not run under that request's lane or carry its AsyncLocals.
        var seen = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(Fleet.NsfLanes).Build());
        services.AddSingleton<IServiceEndpointProviderFactory>(new RecordingFactory(seen));
        services.AddLaneServiceEndpoints();
        await using var provider = services.BuildServiceProvider();
        var endpoints = provider.GetRequiredService<LaneServiceEndpoints>();

        using (LaneContext.Begin("yellow"))
        {
            Assert.NotNull(await endpoints.GetAsync("http", "details", CancellationToken.None));
        }

        Assert.Null(await seen.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task DisposingTheContainer_DisposesEachServicesProviders()
    {
        var disposed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(Fleet.NsfLanes).Build());
        services.AddSingleton<IServiceEndpointProviderFactory>(new RecordingFactory(new(), disposed));
        services.AddLaneServiceEndpoints();
        var provider = services.BuildServiceProvider();
        var endpoints = provider.GetRequiredService<LaneServiceEndpoints>();
        Assert.NotNull(await endpoints.GetAsync("http", "details", CancellationToken.None));

        await provider.DisposeAsync();

        await disposed.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Records the lane current while it is read, and its own disposal.</summary>
    private sealed class RecordingFactory(TaskCompletionSource<string?> seen, TaskCompletionSource? disposed = null) : IServiceEndpointProviderFactory
    {
        public bool TryCreateProvider(ServiceEndpointQuery query, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IServiceEndpointProvider? provider)
        {
            provider = new Provider(seen, disposed);
            return true;
        }

        private sealed class Provider(TaskCompletionSource<string?> seen, TaskCompletionSource? disposed) : IServiceEndpointProvider
        {
            public ValueTask PopulateAsync(IServiceEndpointBuilder endpoints, CancellationToken cancellationToken)
            {
                seen.TrySetResult(LaneContext.Current);
                var endpoint = ServiceEndpoint.Create(new IPEndPoint(IPAddress.Loopback, 5001));
                endpoint.WithLane("yellow", "a");
                endpoints.Endpoints.Add(endpoint);
                endpoints.AddChangeToken(new CancellationChangeToken(CancellationToken.None));
                return default;
            }

            public ValueTask DisposeAsync()
            {
                disposed?.TrySetResult();
                return default;
            }
        }
    }
}
