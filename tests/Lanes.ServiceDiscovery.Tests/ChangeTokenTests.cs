using System.Net;
using Lanes.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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

/// <summary>
/// One signal (issue 41): a snapshot is published only when instances or settings changed, keyed by (scheme, service) with
/// a version, and followers key their state the same way.
/// </summary>
public sealed class SnapshotIdentityTests
{
    private static Dictionary<string, string?> Settings(string lane, params (string Id, string Address, string? Lane)[] more)
    {
        var config = new Dictionary<string, string?>(Fleet.NsfLanes);
        Fleet.Service(config, "details", "Permissive", null, [("a", "http://127.0.0.1:1", lane), .. more]);
        return config;
    }

    [Fact]
    public async Task AnUnchangedReading_PublishesNothing_AndAChangePublishesANewerVersion()
    {
        var source = new SwappableConfiguration();
        source.Replace(Settings("yellow"));
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Add(source).Build());
        services.AddLaneServiceEndpoints();
        await using var provider = services.BuildServiceProvider();
        var endpoints = provider.GetRequiredService<LaneServiceEndpoints>();
        var first = (await endpoints.GetAsync("http", "details", CancellationToken.None))!;
        var refreshedBefore = endpoints.GetStatuses().Single().Refreshed;

        // The same configuration again: read (the status says when), but not published.
        source.Replace(Settings("yellow"));
        await Wait.UntilAsync(() => endpoints.GetStatuses().Single().Refreshed != refreshedBefore, "the unchanged configuration to be read");
        var afterSame = await endpoints.GetAsync("http", "details", CancellationToken.None);
        var firedAfterSame = first.ChangeToken.HasChanged;

        // A real change (the sentinel): published, newer, and the old snapshot's token fires.
        source.Replace(Settings("green"));
        var changed = await Wait.ForAsync(
            async () => await endpoints.GetAsync("http", "details", CancellationToken.None),
            static s => s!.Definition.Instances.Single().Lane == "green",
            "the change (green) to reach the snapshot");

        Assert.Same(first, afterSame);
        Assert.False(firedAfterSame);
        Assert.True(first.ChangeToken.HasChanged);
        Assert.True(changed!.Version > first.Version);
        Assert.Equal(("http", "details"), (changed.Scheme, changed.Service));
    }

    [Fact]
    public async Task TwoSchemesOfOneService_KeepTheirOwnRouterState_AndTheirEjections()
    {
        // "a" (first by id, so a fresh router state picks it first) is down; "b" answers. Calls alternate between
        // http://details and https+http://details: each scheme ejects "a" once and keeps it out.
        var live = Fleet.Http("b");
        try
        {
            var config = new Dictionary<string, string?> { ["Lanes:Preset"] = "nsf", ["Lanes:Failover:Retries"] = "2" };
            Fleet.Service(config, "details", "Permissive", null, ("a", Fleet.Dead(), null), ("b", live.Url!, null));
            var logs = new InMemoryLoggerProvider();
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
            builder.Configuration.AddInMemoryCollection(config);
            builder.Logging.SetMinimumLevel(LogLevel.Debug).AddProvider(logs);
            builder.Services.AddLanes();
            builder.Services.AddHttpClient("details").AddLaneRouting();
            using var host = builder.Build();
            await host.StartAsync();
            var http = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("details");

            for (var i = 0; i < 10; i++)
            {
                using var response = await http.GetAsync(new Uri(i % 2 == 0 ? "http://details/x" : "https+http://details/x"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            await host.StopAsync();
            Assert.Equal(2, logs.Records.Count(static r => r.EventId.Name == "InstanceEjected" && r.Message.Contains("'a'", StringComparison.Ordinal)));
        }
        finally
        {
            live.Stop();
        }
    }
}
