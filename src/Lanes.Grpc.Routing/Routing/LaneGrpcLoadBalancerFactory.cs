using Grpc.Net.Client.Balancer;
using Lanes.Routing;

namespace Lanes.Grpc.Routing;

/// <summary>Creates the <c>lanes</c> load balancer for a channel whose resolver named a lane routing service.</summary>
internal sealed class LaneGrpcLoadBalancerFactory : LoadBalancerFactory
{
    public const string PolicyName = "lanes";
    public const string ServiceKey = "service";

    private readonly LanePropagator _propagator;
    private readonly LaneTelemetry _telemetry;

    public LaneGrpcLoadBalancerFactory(LanePropagator propagator, LaneTelemetry telemetry)
    {
        ArgumentNullException.ThrowIfNull(propagator);
        ArgumentNullException.ThrowIfNull(telemetry);
        _propagator = propagator;
        _telemetry = telemetry;
    }

    public override string Name => PolicyName;

    public override LoadBalancer Create(LoadBalancerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var service = options.Configuration.TryGetValue(ServiceKey, out var value) ? value as string : null;
        if (service is null)
        {
            throw new InvalidOperationException(
                $"The '{PolicyName}' load balancer needs a service: address the channel as lanes:///<service>.");
        }

        return new LaneGrpcLoadBalancer(options.Controller, service, _propagator, _telemetry);
    }
}
