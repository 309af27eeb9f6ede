using Lanes.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ServiceDiscovery;

namespace Lanes.ServiceDiscovery.Tests;

/// <summary>
/// Microsoft.Extensions.ServiceDiscovery 10.0 disposes its token registration under its lock when a refresh starts,
/// and the token's callback takes that lock: a provider token firing at that moment deadlocks. Lanes' providers hand
/// discovery a token without callbacks and follow their own token directly.
/// </summary>
public sealed class ChangeTokenTests
{
    [Fact]
    public async Task LanesServicesToken_IsPassiveToDiscovery_AndRapidReloadsWhileResolvingNeverDeadlock()
    {
        var source = new SwappableConfiguration();
        Dictionary<string, string?> Settings(int i)
        {
            var config = new Dictionary<string, string?>(Fleet.NsfLanes);
            Fleet.Service(config, "details", "Permissive", null, ("a", "http://127.0.0.1:1", i % 2 == 0 ? "yellow" : "green"));
            return config;
        }

        source.Replace(Settings(0));
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Add(source).Build());
        services.AddServiceDiscovery();
        services.AddLaneServiceEndpoints();
        await using var provider = services.BuildServiceProvider();
        var resolver = provider.GetRequiredService<ServiceEndpointResolver>();
        var endpoints = provider.GetRequiredService<LaneServiceEndpoints>();

        var first = await resolver.GetEndpointsAsync("http://details", CancellationToken.None);
        Assert.False(first.ChangeToken.ActiveChangeCallbacks);            // discovery registers no callback on it
        Assert.NotNull(await endpoints.GetAsync("http", "details", CancellationToken.None));

        // Reloads fire the token while the watcher refreshes and Lanes resolves: everything finishes.
        using var stop = new CancellationTokenSource();
        var resolving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await resolver.GetEndpointsAsync("http://details", CancellationToken.None);
                await endpoints.GetAsync("http", "details", CancellationToken.None);
            }
        });
        for (var i = 1; i <= 300; i++)
        {
            source.Replace(Settings(i));
            await Task.Yield();
        }

        await stop.CancelAsync();
        await resolving.WaitAsync(TimeSpan.FromSeconds(30));

        // And the last reload (300: yellow) reaches Lanes.
        await Wait.ForAsync(
            async () => await endpoints.GetAsync("http", "details", CancellationToken.None),
            static s => s!.Definition.Instances.Single().Lane == "yellow",
            "the last reload (yellow) to reach the snapshot",
            describe: static s => s!.Definition.Instances.Single().Lane ?? "(none)");
    }
}

/// <summary>A subscriber of <see cref="LaneServiceEndpoints.Changed"/> that throws does not keep the others on old instances.</summary>
public sealed class ChangedSubscriberTests
{
    [Fact]
    public async Task AThrowingSubscriber_IsLogged_AndTheNextSubscriberStillHearsTheChange()
    {
        var source = new SwappableConfiguration();
        Dictionary<string, string?> Settings(string lane)
        {
            var config = new Dictionary<string, string?>(Fleet.NsfLanes);
            Fleet.Service(config, "details", "Permissive", null, ("a", "http://127.0.0.1:1", lane));
            return config;
        }

        source.Replace(Settings("yellow"));
        using var logs = new InMemoryLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs));
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Add(source).Build());
        services.AddLaneServiceEndpoints();
        await using var provider = services.BuildServiceProvider();
        var endpoints = provider.GetRequiredService<LaneServiceEndpoints>();
        await endpoints.GetAsync("http", "details", CancellationToken.None);

        var heard = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        endpoints.Changed += static _ => throw new InvalidOperationException("a broken subscriber");
        endpoints.Changed += snapshot => heard.TrySetResult(snapshot.Definition.Instances.Single().Lane);
        source.Replace(Settings("green"));

        Assert.Equal("green", await heard.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains(logs.Records, static r => r.EventId.Name == "ServiceEndpointsRefreshFailed" && r.Exception?.Message == "a broken subscriber");
    }
}
