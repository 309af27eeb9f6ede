using Microsoft.Extensions.ServiceDiscovery;

namespace Lanes.ServiceDiscovery;

/// <summary>
/// The <c>Lanes:Services</c> registry as a <c>Microsoft.Extensions.ServiceDiscovery</c> endpoint provider: a service
/// listed there resolves to its instances, each endpoint with its lane (<see cref="ILaneEndpointFeature"/>), and the
/// service's settings (<see cref="ILaneServiceFeature"/>) on the result. The registry follows the <c>Lanes</c> settings:
/// a reload that edits a service (add, remove or relabel an instance, change a policy) fires the change token, and
/// discovery resolves again; an invalid edit is refused by the settings and changes nothing here.
/// </summary>
internal sealed class LaneServicesEndpointProviderFactory(LanePropagator propagator) : IServiceEndpointProviderFactory
{
    public bool TryCreateProvider(ServiceEndpointQuery query, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IServiceEndpointProvider? provider)
    {
        ArgumentNullException.ThrowIfNull(query);
        provider = propagator.Settings.Services.ContainsKey(query.ServiceName) ? new Provider(propagator, query.ServiceName) : null;
        return provider is not null;
    }

    private sealed class Provider(LanePropagator propagator, string service) : IServiceEndpointProvider
    {
        public ValueTask PopulateAsync(IServiceEndpointBuilder endpoints, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(endpoints);

            // Read the token before the settings, so an edit between the two reads is not missed.
            endpoints.AddLaneChangeToken(propagator.GetSettingsChangeToken());
            if (!propagator.Settings.Services.TryGetValue(service, out var definition))
            {
                return default;                                      // removed by a reload: nothing to add
            }

            endpoints.Features.Set<ILaneServiceFeature>(new LaneServiceFeature(definition.Settings));
            foreach (var instance in definition.Instances)
            {
                var endpoint = ServiceEndpoint.Create(new UriEndPoint(instance.Address));
                endpoint.Features.Set<ILaneEndpointFeature>(new LaneEndpointFeature(instance.Lane) { Origin = "configuration" });
                endpoint.Features.Set(new InstanceIdFeature(instance.Id));
                endpoints.Endpoints.Add(endpoint);
            }

            return default;
        }

        public ValueTask DisposeAsync() => default;

        public override string ToString() => "Lanes:Services";
    }
}

/// <summary>The instance id under <c>Lanes:Services</c>, kept so a resolved instance has the name operators gave it.</summary>
internal sealed record InstanceIdFeature(string Id);
