using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Lanes.Configuration;
using Lanes.Routing;

namespace Lanes.Grpc.Routing;

/// <summary>
/// Resolves <c>lanes:///&lt;service&gt;</c> to the instances of <c>Lanes:Services:&lt;service&gt;</c>, each address carrying its
/// lane, and selects the <c>lanes</c> load balancer through the service config it returns.
/// </summary>
internal sealed class LaneGrpcResolverFactory : ResolverFactory
{
    public const string Scheme = "lanes";

    internal static readonly BalancerAttributesKey<string> LaneKey = new("lanes.lane");

    private readonly LanePropagator _propagator;

    public LaneGrpcResolverFactory(LanePropagator propagator)
    {
        ArgumentNullException.ThrowIfNull(propagator);
        _propagator = propagator;
    }

    public override string Name => Scheme;

    public override Resolver Create(ResolverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new LaneGrpcResolver(_propagator.Settings, ServiceName(options.Address));
    }

    /// <summary>The service of <c>lanes:///reviews</c> or <c>lanes://reviews</c>.</summary>
    internal static string ServiceName(Uri address)
    {
        var path = address.AbsolutePath.Trim('/');
        return path.Length > 0 ? path : address.Host;
    }

    private sealed class LaneGrpcResolver(LaneSettings settings, string service) : Resolver
    {
        public override void Start(Action<ResolverResult> listener)
        {
            ArgumentNullException.ThrowIfNull(listener);
            if (!settings.Services.TryGetValue(service, out var definition))
            {
                listener(ResolverResult.ForFailure(new Status(
                    StatusCode.Unavailable,
                    $"No lane routing service '{service}': add it under {LaneOptions.SectionName}:Services with its Instances.")));
                return;
            }

            listener(ResolverResult.ForResult(Addresses(definition), ServiceConfigFor(definition.Name), serviceConfigStatus: null));
        }

        public override void Refresh()
        {
            // The registry is read from configuration once, at start-up: nothing to refresh.
        }

        private static List<BalancerAddress> Addresses(LaneServiceDefinition definition)
        {
            var addresses = new List<BalancerAddress>(definition.Instances.Count);
            foreach (var instance in definition.Instances)
            {
                var address = new BalancerAddress(instance.Address.Host, instance.Address.Port);
                if (instance.Lane is not null)
                {
                    address.Attributes.Set(LaneKey, instance.Lane);
                }

                addresses.Add(address);
            }

            return addresses;
        }
    }

    internal static ServiceConfig ServiceConfigFor(string service)
    {
        // The config object is { "lanes": { "service": "<service>" } }; the balancer receives the inner object.
        var config = new LoadBalancingConfig(LaneGrpcLoadBalancerFactory.PolicyName);
        var inner = (IDictionary<string, object>)config.Inner[LaneGrpcLoadBalancerFactory.PolicyName];
        inner[LaneGrpcLoadBalancerFactory.ServiceKey] = service;
        var serviceConfig = new ServiceConfig();
        serviceConfig.LoadBalancingConfigs.Add(config);
        return serviceConfig;
    }
}
