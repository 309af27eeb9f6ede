using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bookinfo;

/// <summary>
/// A whole scenario in one process on loopback: every instance on a free port, then the lane-aware YARP gateway in
/// front of the entry service. Services call each other through the <c>Lanes:Services</c> registry built from the
/// instances' real addresses.
/// </summary>
public sealed class BookinfoCluster : IAsyncDisposable
{
    // Leaves first, so each service's registry lists instances that already run.
    private static readonly string[] StartOrder = ["ratings", "details", "svc1", "reviews", "productpage"];

    private readonly List<(InstanceSpec Spec, WebApplication App, Uri Address)> _instances = [];

    private BookinfoCluster(Scenario scenario) => Scenario = scenario;

    /// <summary>How long each server waits for requests in flight when the cluster stops.</summary>
    public static TimeSpan ShutdownTimeout { get; } = TimeSpan.FromSeconds(2);

    public Scenario Scenario { get; }

    public WebApplication Gateway { get; private set; } = null!;

    public Uri GatewayAddress { get; private set; } = null!;

    /// <summary>The lanes admin page on the gateway (<c>/lanes/ui</c>).</summary>
    public Uri DashboardAddress => new(GatewayAddress, "/lanes/ui");

    public IReadOnlyList<(InstanceSpec Spec, WebApplication App, Uri Address)> Instances => _instances;

    /// <summary>Starts the scenario; the gateway listens on 127.0.0.1:<paramref name="gatewayPort"/> (0: any free port).</summary>
    public static async Task<BookinfoCluster> StartAsync(Scenario scenario, int gatewayPort = 0)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var cluster = new BookinfoCluster(scenario);
        try
        {
            foreach (var service in StartOrder)
            {
                foreach (var spec in scenario.Instances.Where(i => i.Service == service))
                {
                    var app = BookinfoServices.Build(spec, cluster.ServiceConfiguration());
                    await app.StartAsync();
                    cluster._instances.Add((spec, app, AddressOf(app)));
                }
            }

            cluster.Gateway = BuildGateway(cluster.GatewayConfiguration(), gatewayPort);
            await cluster.Gateway.StartAsync();
            cluster.GatewayAddress = AddressOf(cluster.Gateway);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops one instance (to show passive health and fallbacks).</summary>
    public Task StopAsync(string instanceId) => _instances.Single(i => i.Spec.Id == instanceId).App.StopAsync();

    /// <summary>Stops the gateway first (no new requests), then every instance at once, then frees them all.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        await Task.WhenAll(_instances.Select(static i => i.App.StopAsync()));
        foreach (var (_, app, _) in _instances)
        {
            await app.DisposeAsync();
        }
    }

    /// <summary>The <c>Lanes</c> section of a service: the scenario's lanes and a registry of the instances started so far.</summary>
    private Dictionary<string, string?> ServiceConfiguration()
    {
        var config = Scenario.Lanes.ToDictionary(static p => "Lanes:" + p.Key, static p => p.Value);
        foreach (var (spec, _, address) in _instances)
        {
            var prefix = $"Lanes:Services:{spec.Service}";
            foreach (var (key, value) in Scenario.ServiceMetadata[spec.Service])
            {
                config[$"{prefix}:Metadata:{key}"] = value;
            }

            config[$"{prefix}:Instances:{spec.Id}:Address"] = address.ToString();
            if (spec.Lane is not null)
            {
                config[$"{prefix}:Instances:{spec.Id}:Metadata:lane"] = spec.Lane;
            }
        }

        return config;
    }

    /// <summary>The gateway's configuration: the scenario's <c>Lanes</c> section and a YARP route to the entry service's cluster.</summary>
    private Dictionary<string, string?> GatewayConfiguration()
    {
        var entry = Scenario.EntryService;
        var config = Scenario.Lanes.ToDictionary(static p => "Lanes:" + p.Key, static p => p.Value);
        config["Lanes:DebugHeaders"] = "true";               // x-lane-served / x-lane-fallback, as the page's tracer reports them
        config[$"ReverseProxy:Routes:{entry}:ClusterId"] = entry;
        config[$"ReverseProxy:Routes:{entry}:Match:Path"] = Scenario.EntryPath;
        config[$"ReverseProxy:Routes:{entry}:Match:Methods:0"] = "GET";
        foreach (var (key, value) in Scenario.ServiceMetadata[entry])
        {
            config[$"ReverseProxy:Clusters:{entry}:Metadata:{key}"] = value;
        }

        foreach (var (spec, _, address) in _instances.Where(i => i.Spec.Service == entry))
        {
            config[$"ReverseProxy:Clusters:{entry}:Destinations:{spec.Id}:Address"] = address.ToString();
            if (spec.Lane is not null)
            {
                config[$"ReverseProxy:Clusters:{entry}:Destinations:{spec.Id}:Metadata:lane"] = spec.Lane;
            }
        }

        return config;
    }

    /// <summary>The demo's gateway: Lanes on YARP from <paramref name="configuration"/>, the admin page for loopback callers.</summary>
    internal static WebApplication BuildGateway(Dictionary<string, string?> configuration, int port)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        // A failure to start (a busy port) reaches the owner as the exception StartAsync throws; not logged twice.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Services.Configure<HostOptions>(static o => o.ShutdownTimeout = ShutdownTimeout);
        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy")).AddLanes();
        var app = builder.Build();

        // The admin report, page (/lanes/ui) and tracer, on the gateway's port, for loopback callers only.
        app.MapLanesAdmin().AllowAnonymousOnLoopback();
        app.MapReverseProxy(static proxy =>
        {
            proxy.UseLaneSubsets();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        return app;
    }

    private static Uri AddressOf(WebApplication app)
        => new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
}
