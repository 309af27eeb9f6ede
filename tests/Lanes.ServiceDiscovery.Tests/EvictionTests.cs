using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ServiceDiscovery;
using Microsoft.Extensions.Time.Testing;

namespace Lanes.ServiceDiscovery.Tests;

/// <summary>
/// Services nobody asks for are forgotten after <see cref="LaneOptions.ServiceIdleTimeout"/> (on the injected
/// clock), so names asked once do not hold memory; whoever still follows a forgotten service's snapshot is told (its
/// token fires) and gets a fresh resolution when it asks again.
/// </summary>
public sealed class EvictionTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task NotAskedWithinTheIdleTimeout_IsForgotten_ItsTokenFires_AndTheNextAskResolvesAfresh()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var discovery = new SwitchableDiscoveryProvider(service: null, port: 1, lane: "yellow");
        await using var provider = Build(time, discovery);
        var endpoints = provider.GetRequiredService<LaneServiceEndpoints>();

        var first = (await endpoints.GetAsync("http", "details", CancellationToken.None))!;
        var asked = discovery.Asked;
        Assert.Equal(["details"], endpoints.GetStatuses().Select(static s => s.Service));

        // Half the timeout, then the rest: the sweep runs every half, and forgets what was not asked for a whole one.
        time.Advance(Idle / 2);
        Assert.False(first.ChangeToken.HasChanged);
        time.Advance(Idle / 2);
        await Wait.UntilAsync(() => first.ChangeToken.HasChanged, "the forgotten snapshot's token to fire");
        Assert.Empty(endpoints.GetStatuses());

        var again = (await endpoints.GetAsync("http", "details", CancellationToken.None))!;
        Assert.NotSame(first, again);
        Assert.True(discovery.Asked > asked, "the service was not resolved afresh");
        Assert.False(again.ChangeToken.HasChanged);
    }

    [Fact]
    public async Task AskedWithinEachIdleTimeout_IsKept_AndKeepsItsSnapshot()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var discovery = new SwitchableDiscoveryProvider(service: null, port: 1, lane: "yellow");
        await using var provider = Build(time, discovery);
        var endpoints = provider.GetRequiredService<LaneServiceEndpoints>();
        var first = (await endpoints.GetAsync("http", "details", CancellationToken.None))!;
        var other = (await endpoints.GetAsync("http", "reviews", CancellationToken.None))!;

        for (var i = 0; i < 4; i++)
        {
            time.Advance(Idle / 2);
            Assert.Same(first, await endpoints.GetAsync("http", "details", CancellationToken.None));   // a call: asked
        }

        // reviews, never asked again, is the sentinel: once it is forgotten, details' sweep has run too.
        await Wait.UntilAsync(() => other.ChangeToken.HasChanged, "reviews to be forgotten");
        Assert.False(first.ChangeToken.HasChanged);
        Assert.Equal(["details"], endpoints.GetStatuses().Select(static s => s.Service));
    }

    private static ServiceProvider Build(TimeProvider time, SwitchableDiscoveryProvider discovery)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(time);
        services.AddServiceDiscoveryCore();
        services.AddSingleton<IServiceEndpointProviderFactory>(discovery);
        services.Configure<LaneOptions>(static o => o.ServiceIdleTimeout = Idle);
        services.AddLaneServiceEndpoints();
        return services.BuildServiceProvider();
    }
}
