using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ServiceDiscovery;

namespace Lanes.ServiceDiscovery;

/// <summary>
/// The <c>Lanes:Services</c> registry as a <c>Microsoft.Extensions.ServiceDiscovery</c> endpoint provider: a service
/// listed there resolves to its instances, each endpoint with its lane (<see cref="ILaneEndpointFeature"/>), and the
/// service's settings (<see cref="ILaneServiceFeature"/>) on the result. The registry follows the <c>Lanes</c> settings:
/// a reload that edits a service (add, remove or relabel an instance, change a policy) fires the change token, and
/// discovery resolves again; an invalid edit is refused by the settings and changes nothing here.
/// </summary>
internal sealed class LaneServicesEndpointProviderFactory(LanePropagator propagator, IServiceProvider services) : IServiceEndpointProviderFactory
{
    public bool TryCreateProvider(ServiceEndpointQuery query, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IServiceEndpointProvider? provider)
    {
        ArgumentNullException.ThrowIfNull(query);
        provider = propagator.Settings.Services.ContainsKey(query.ServiceName) ? new Provider(propagator, query.ServiceName, services) : null;
        return provider is not null;
    }

    private sealed class Provider(LanePropagator propagator, string service, IServiceProvider services) : IServiceEndpointProvider
    {
        /// <summary>The providers of each discovery name an instance address names, created once, disposed with this one.</summary>
        private readonly Dictionary<string, IServiceEndpointProvider[]?> _names = new(StringComparer.OrdinalIgnoreCase);

        public async ValueTask PopulateAsync(IServiceEndpointBuilder endpoints, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(endpoints);

            // Read the token before the settings, so an edit between the two reads is not missed.
            endpoints.AddLaneChangeToken(propagator.GetSettingsChangeToken());
            var settings = propagator.Settings;
            if (!settings.Services.TryGetValue(service, out var definition))
            {
                return;                                              // removed by a reload: nothing to add
            }

            endpoints.WithLaneSettings(definition.Settings);
            foreach (var instance in definition.Instances)
            {
                if (IsDiscoveryName(instance.Address, settings)
                    && await ReadAsync(instance.Address, cancellationToken).ConfigureAwait(false) is { } reading)
                {
                    // An address that is itself a discovery name (an Aspire resource per version: http://details-yellow):
                    // its endpoints, each with this instance's lane, followed live.
                    foreach (var token in reading.ChangeTokens())
                    {
                        endpoints.AddLaneChangeToken(token);
                    }

                    for (var i = 0; i < reading.Endpoints.Count; i++)
                    {
                        var id = reading.Endpoints.Count == 1 ? instance.Id : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{instance.Id}[{i}]");
                        Add(endpoints, reading.Endpoints[i].EndPoint, id, instance.Lane);
                    }

                    continue;
                }

                Add(endpoints, new UriEndPoint(instance.Address), instance.Id, instance.Lane);
            }
        }

        public async ValueTask DisposeAsync()
        {
            IServiceEndpointProvider[]?[] names;
            lock (_names)
            {
                names = [.. _names.Values];
                _names.Clear();
            }

            foreach (var providers in names)
            {
                await ServiceDiscoveryReader.DisposeAsync(providers).ConfigureAwait(false);
            }
        }

        public override string ToString() => "Lanes:Services";

        private static void Add(IServiceEndpointBuilder endpoints, System.Net.EndPoint address, string id, string? lane)
        {
            var endpoint = ServiceEndpoint.Create(address).WithLane(lane, origin: "configuration");
            endpoint.Features.Set(new InstanceIdFeature(id));
            endpoints.Endpoints.Add(endpoint);
        }

        /// <summary>
        /// A single-label host name (no dots, not an IP address, not <c>localhost</c>) that is not itself under
        /// <c>Lanes:Services</c>: a name service discovery may know (Aspire's <c>Services:details-yellow</c>).
        /// </summary>
        private static bool IsDiscoveryName(Uri address, Lanes.Configuration.LaneSettings settings)
            => address.HostNameType == UriHostNameType.Dns
               && !address.Host.Contains('.', StringComparison.Ordinal)
               && !string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase)
               && !settings.Services.ContainsKey(address.Host);

        /// <summary>
        /// The name's endpoints from the other providers, read directly (<see cref="ServiceDiscoveryReader"/>);
        /// <see langword="null"/> when only pass-through knows it (the name itself, resolved by DNS when connecting, as
        /// before) or no provider answers.
        /// </summary>
        private async ValueTask<ServiceDiscoveryReading?> ReadAsync(Uri address, CancellationToken cancellationToken)
        {
            if (services.GetService(typeof(ServiceDiscoveryReader)) is not ServiceDiscoveryReader reader)
            {
                return null;
            }

            var query = address.GetLeftPart(UriPartial.Authority);
            IServiceEndpointProvider[]? providers;
            lock (_names)
            {
                if (!_names.TryGetValue(query, out providers))
                {
                    _names[query] = providers = reader.CreateProviders(query);
                }
            }

            if (providers is null)
            {
                return null;                                          // no provider for the name
            }

            var reading = await ServiceDiscoveryReader.ReadAsync(providers, cancellationToken).ConfigureAwait(false);
            var passThrough = reading.Endpoints.Count == 1
                && reading.Endpoints[0].EndPoint is System.Net.DnsEndPoint dns
                && string.Equals(dns.Host, address.Host, StringComparison.OrdinalIgnoreCase);
            return passThrough || reading.Endpoints.Count == 0 ? null : reading;
        }
    }
}

/// <summary>The instance id under <c>Lanes:Services</c>, kept so a resolved instance has the name operators gave it.</summary>
internal sealed record InstanceIdFeature(string Id);
