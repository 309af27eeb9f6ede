using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Lanes.Routing;
using Lanes.ServiceDiscovery;
using Microsoft.Extensions.Logging;

namespace Lanes.Grpc.Routing;

/// <summary>
/// Resolves <c>lanes:///&lt;service&gt;</c> through service discovery (<see cref="LaneServiceEndpoints"/>: <c>Lanes:Services</c>
/// and any other provider) to one address per instance, each carrying its lane, with the service's lane settings as
/// an attribute of every address (the channel passes address attributes to the balancer, not the result's); selects the <c>lanes</c> load balancer through the service config it returns. When discovery
/// brings new instances (a reload of <c>Lanes:Services</c>, a change in configuration or Kubernetes), the resolver
/// resolves again and the balancer rebuilds the subsets.
/// </summary>
internal sealed class LaneGrpcResolverFactory : ResolverFactory
{
    public const string Scheme = "lanes";

    /// <summary>The scheme service discovery is asked with: https endpoints first, else http.</summary>
    internal const string DiscoveryScheme = "https+http";

    internal static readonly BalancerAttributesKey<string> LaneKey = new("lanes.lane");
    internal static readonly BalancerAttributesKey<LaneSubsetSettings> SettingsKey = new("lanes.settings");

    private readonly LaneServiceEndpoints _endpoints;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;

    public LaneGrpcResolverFactory(LaneServiceEndpoints endpoints, ILoggerFactory loggerFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(time);
        _endpoints = endpoints;
        _loggerFactory = loggerFactory;
        _time = time;
    }

    public override string Name => Scheme;

    public override Resolver Create(ResolverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new LaneGrpcResolver(_endpoints, ServiceName(options.Address), _loggerFactory, _time);
    }

    /// <summary>The service of <c>lanes:///reviews</c> or <c>lanes://reviews</c>.</summary>
    internal static string ServiceName(Uri address)
    {
        var path = address.AbsolutePath.Trim('/');
        return path.Length > 0 ? path : address.Host;
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

    private sealed class LaneGrpcResolver : PollingResolver
    {
        private readonly LaneServiceEndpoints _endpoints;
        private readonly string _service;
        /// <summary>How long a resolve in progress has to consume a change flag before it is asked again: far longer than a resolve from the snapshot takes, short enough not to be noticed; on the injected clock.</summary>
        private static readonly TimeSpan StaleCheckDelay = TimeSpan.FromMilliseconds(50);
        private int _stale;
        private IDisposable? _following;

        private readonly TimeProvider _time;

        public LaneGrpcResolver(LaneServiceEndpoints endpoints, string service, ILoggerFactory loggerFactory, TimeProvider time)
            : base(loggerFactory)
        {
            _time = time;
            _endpoints = endpoints;
            _service = service;
            endpoints.Changed += OnChanged;
        }

        protected override async Task ResolveAsync(CancellationToken cancellationToken)
        {
            // grpc-dotnet drops a Refresh() that arrives while a resolve runs: a change raised after this resolve read
            // its snapshot would be lost. So a change marks the resolver stale, and a resolve that finds it stale when
            // it is done publishes again.
            do
            {
                Volatile.Write(ref _stale, 0);
                await PublishAsync(cancellationToken).ConfigureAwait(false);
            }
            while (Volatile.Read(ref _stale) == 1 && !cancellationToken.IsCancellationRequested);
        }

        private async Task PublishAsync(CancellationToken cancellationToken)
        {
            var snapshot = await _endpoints.GetAsync(DiscoveryScheme, _service, cancellationToken).ConfigureAwait(false);
            if (snapshot is null)
            {
                Listener(ResolverResult.ForFailure(new Status(
                    StatusCode.Unavailable,
                    $"No lane routing service '{_service}': list it under {LaneOptions.SectionName}:Services with its Instances, or under any service discovery provider.")));
                return;
            }

            // Besides Changed (a newer snapshot), the snapshot's own token: it also fires when the service is forgotten
            // after its idle timeout, and the resolve it starts asks for the service afresh.
            Interlocked.Exchange(ref _following, snapshot.ChangeToken.RegisterChangeCallback(static state => ((LaneGrpcResolver)state!).Stale(), this))?.Dispose();

            var instances = snapshot.Definition.Instances;
            var addresses = new List<BalancerAddress>(instances.Count);
            foreach (var instance in instances)
            {
                var address = new BalancerAddress(instance.Address.Host, instance.Address.Port);
                address.Attributes.Set(SettingsKey, snapshot.Definition.Settings);
                if (instance.Lane is not null)
                {
                    address.Attributes.Set(LaneKey, instance.Lane);
                }

                addresses.Add(address);
            }

            Listener(ResolverResult.ForResult(addresses, ServiceConfigFor(_service), serviceConfigStatus: null));
        }

        protected override void Dispose(bool disposing)
        {
            _endpoints.Changed -= OnChanged;
            Interlocked.Exchange(ref _following, null)?.Dispose();
            base.Dispose(disposing);
        }

        private void OnChanged(LaneServiceSnapshot snapshot)
        {
            if (string.Equals(snapshot.Definition.Name, _service, StringComparison.OrdinalIgnoreCase))
            {
                Stale();
            }
        }

        private void Stale()
        {
            Volatile.Write(ref _stale, 1);
            try
            {
                Refresh();
            }
            catch (InvalidOperationException)
            {
                return;                                                  // not started yet (its first resolve reads the new snapshot), or disposed
            }

            _ = RefreshIfStillStaleAsync();
        }

        /// <summary>
        /// A change that lands between a resolve's last check and the end of its task is ignored by <c>Refresh()</c>;
        /// a flag nobody consumed shortly after means exactly that, so ask once more.
        /// </summary>
        private async Task RefreshIfStillStaleAsync()
        {
            await Task.Delay(StaleCheckDelay, _time).ConfigureAwait(false);
            if (Volatile.Read(ref _stale) == 1)
            {
                try
                {
                    Refresh();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }
    }
}
