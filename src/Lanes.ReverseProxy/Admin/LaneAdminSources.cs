using Lanes.ReverseProxy.Failover;
using Lanes.ReverseProxy.Routing;
using Lanes.ServiceDiscovery;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Model;

namespace Lanes.ReverseProxy.Admin;

/// <summary>
/// The admin page's own state, a tenant beside the gateway: made the first time <c>MapLanesAdmin</c> is called (nothing
/// of it exists in an application that does not map the page), it reads the <c>Lanes</c> meter (<see cref="Traffic"/>)
/// and subscribes to the gateway's <see cref="LaneGatewayEvents"/> for what a meter cannot carry (lanes by name,
/// failing destinations). Besides those it reads service discovery's state, failover and the clock.
/// </summary>
internal sealed class LaneAdminSources : ILaneGatewayObserver, IDisposable
{
    private readonly LaneClusterRouting _routing;

    private LaneAdminSources(IServiceProvider services)
    {
        _routing = services.GetRequiredService<LaneClusterRouting>();
        Time = services.GetRequiredService<TimeProvider>();
        Observed = new LaneObservedLanes(Time);
        Failures = new LaneDestinationFailures(Time);
        Traffic = new LaneTrafficWindow(Time, services.GetRequiredService<Lanes.Routing.LaneTelemetry>().Meter);
        Discovery = services.GetRequiredService<LaneServiceEndpoints>();
        Failover = services.GetRequiredService<LaneGatewayFailover>();
        Shadow = services.GetRequiredService<Shadow.LaneShadowMirror>();
        Tracer = new LaneRequestTracer(
            services, services.GetRequiredService<Lanes.Resolution.LaneResolver>(), services.GetRequiredService<LanePropagator>(),
            services.GetRequiredService<Configuration.LaneGatewayConfigSource>(), _routing,
            services.GetRequiredService<Microsoft.Extensions.Logging.ILogger<LaneRequestTracer>>());
    }

    public LaneObservedLanes Observed { get; }

    public LaneTrafficWindow Traffic { get; }

    public LaneDestinationFailures Failures { get; }

    public LaneServiceEndpoints Discovery { get; }

    public TimeProvider Time { get; }

    public LaneGatewayFailover Failover { get; }

    public Shadow.LaneShadowMirror Shadow { get; }

    public LaneRequestTracer Tracer { get; }

    /// <summary>This application's page state: made, subscribed and listening the first time, the same object after.</summary>
    public static LaneAdminSources For(IServiceProvider services)
    {
        var events = services.GetRequiredService<LaneGatewayEvents>();
        return events.GetOrAddTenant(() =>
        {
            var sources = new LaneAdminSources(services);
            sources.Traffic.Start();
            events.Subscribe(sources);
            return sources;
        });
    }

    public void LaneSeen(string lane, LaneSource source) => Observed.Observe(lane, _routing.IsDeclaredAnywhere(lane), source);

    public void LaneDropped(string lane) => Observed.ObserveDropped(lane);

    public void DestinationFailed(DestinationState destination) => Failures.Failed(destination);

    public void Dispose()
    {
        Traffic.Dispose();
        Tracer.Dispose();
    }
}
