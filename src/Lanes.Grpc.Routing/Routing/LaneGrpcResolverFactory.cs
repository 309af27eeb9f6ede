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
    public LaneGrpcResolverFactory(LaneServiceEndpoints endpoints, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _endpoints = endpoints;
        _loggerFactory = loggerFactory;
    }

    public override string Name => Scheme;

    public override Resolver Create(ResolverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new LaneGrpcResolver(_endpoints, ServiceName(options.Address), _loggerFactory);
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

    /// <summary>
    /// grpc-dotnet drops a <c>Refresh()</c> that arrives while a resolve runs, so a change is not sent through it: a new
    /// snapshot is published straight to the channel's listener, and so is the first resolution and every refresh the
    /// channel asks for (with <see cref="PollingResolver"/>'s back-off after a failure). Publishing is serialised, and
    /// a snapshot that has been superseded by the time its turn comes is not published: the newer one is, by whoever
    /// brought it, so an older result never overwrites a newer one and no change waits for a timer.
    /// </summary>
    private sealed class LaneGrpcResolver : PollingResolver
    {
        private readonly LaneServiceEndpoints _endpoints;
        private readonly string _service;
        private readonly Lock _publishing = new();
        private readonly CancellationTokenSource _disposed = new();
        private IDisposable? _following;
        private long _published;

        public LaneGrpcResolver(LaneServiceEndpoints endpoints, string service, ILoggerFactory loggerFactory)
            : base(loggerFactory)
        {
            _endpoints = endpoints;
            _service = service;
        }

        protected override async Task ResolveAsync(CancellationToken cancellationToken)
        {
            var snapshot = await _endpoints.GetAsync(DiscoveryScheme, _service, cancellationToken).ConfigureAwait(false);
            Publish(snapshot);
        }

        protected override void Dispose(bool disposing)
        {
            _disposed.Cancel();
            Interlocked.Exchange(ref _following, null)?.Dispose();
            base.Dispose(disposing);
        }

        private void Publish(LaneServiceSnapshot? snapshot)
        {
            lock (_publishing)
            {
                if (_disposed.IsCancellationRequested || snapshot?.ChangeToken.HasChanged == true || (snapshot is not null && snapshot.Version < _published))
                {
                    return;                                          // a newer snapshot is (or will be) published
                }

                if (snapshot is null)
                {
                    Listener(ResolverResult.ForFailure(new Status(
                        StatusCode.Unavailable,
                        $"No lane routing service '{_service}': list it under {LaneOptions.SectionName}:Services with its Instances, or under any service discovery provider.")));
                    return;
                }

                // The one signal: the snapshot's token fires when a newer snapshot of this key replaces it (or the service
                // is forgotten after its idle timeout); then the service is read again and what it is now is published.
                _published = snapshot.Version;
                Interlocked.Exchange(ref _following, snapshot.ChangeToken.RegisterChangeCallback(static state => ((LaneGrpcResolver)state!).Forgotten(), this))?.Dispose();
                Listener(ResolverResult.ForResult(Addresses(snapshot), ServiceConfigFor(_service), serviceConfigStatus: null));
            }
        }

        private static List<BalancerAddress> Addresses(LaneServiceSnapshot snapshot)
        {
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

            return addresses;
        }

        /// <summary>The snapshot was superseded or forgotten: read the service again and publish what it is now.</summary>
        private void Forgotten()
            => ThreadPool.UnsafeQueueUserWorkItem(static self => _ = self.RepublishAsync(), this, preferLocal: false);

        private async Task RepublishAsync()
        {
            try
            {
                Publish(await _endpoints.GetAsync(DiscoveryScheme, _service, _disposed.Token).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A failed reading (or disposal): the channel's own refresh, with its back-off, takes it from here.
                try
                {
                    Refresh();
                }
                catch (Exception refresh) when (refresh is InvalidOperationException or ObjectDisposedException)
                {
                }
            }
        }
    }
}
