using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ServiceDiscovery;

namespace Lanes.Kubernetes;

/// <summary>The API client and the namespace the provider reads.</summary>
internal sealed record KubernetesTarget(IKubernetes Client, string Namespace);

/// <summary>
/// The <c>Microsoft.Extensions.ServiceDiscovery</c> provider: a name that is a valid Service name (or listed in
/// <see cref="KubernetesLaneOptions.Services"/>) resolves to the Service's ready endpoints, each with its lane, and the
/// service's settings from its annotations; while the Service does not exist, to nothing (other providers answer);
/// until the lists have been read, to no instance with the service's settings (not ready: no other provider answers).
/// </summary>
internal sealed class KubernetesEndpointProviderFactory(KubernetesLaneWatches watches)
    : IServiceEndpointProviderFactory
{
    public bool TryCreateProvider(ServiceEndpointQuery query, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IServiceEndpointProvider? provider)
    {
        ArgumentNullException.ThrowIfNull(query);
        var name = query.ServiceName;
        var options = watches.Options;
        var accepted = options.Services.Count > 0 ? options.Services.Contains(name) : IsServiceName(name);
        provider = accepted ? new Provider(watches, name) : null;
        return accepted;
    }

    /// <summary>A DNS-1035 label, what Kubernetes accepts as a Service name.</summary>
    internal static bool IsServiceName(string name)
    {
        if (name.Length is 0 or > 63 || !char.IsAsciiLetterLower(name[0]) || name[^1] == '-')
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c != '-')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// One service's provider. It holds the service's view from its first reading until it is disposed (service discovery's
    /// reader of the service forgets it), so the view's lifetime is the provider's.
    /// </summary>
    private sealed class Provider(KubernetesLaneWatches watches, string service) : IServiceEndpointProvider
    {
        private readonly Lock _lock = new();
        private KubernetesServiceView? _view;
        private bool _disposed;

        public async ValueTask PopulateAsync(IServiceEndpointBuilder endpoints, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(endpoints);
            KubernetesServiceView view;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                view = _view ??= watches.Acquire(service);
            }

            await watches.WaitSyncedAsync(service, cancellationToken).ConfigureAwait(false);

            // The first resolution computes the view once the lists are read; after that the rebuild queue keeps it
            // current, off this path.
            view.EnsureComputed();

            // The token before the state, so a change between the two reads is not missed.
            endpoints.AddLaneChangeToken(view.ChangeToken);
            var state = view.State;
            if (!state.Synced)
            {
                // Not ready (fail closed): the service's settings with no instance, so calls answer as for a lane with
                // no instances and no later provider's address (pass-through's Service name, a virtual IP that
                // balances every lane over every pod) becomes the baseline. The first list fires the token.
                endpoints.WithLaneSettings(state.Settings);
                return;
            }

            if (!state.Exists)
            {
                return;                                             // no such Service (yet): the next providers answer
            }

            endpoints.WithLaneSettings(state.Settings);
            foreach (var instance in state.Instances)
            {
                endpoints.Endpoints.Add(ServiceEndpoint.Create(instance.EndPoint).WithLane(instance.Lane, instance.Id, "kubernetes"));
            }
        }

        public ValueTask DisposeAsync()
        {
            KubernetesServiceView? view;
            lock (_lock)
            {
                _disposed = true;
                view = _view;
                _view = null;
            }

            if (view is not null)
            {
                watches.Release(view);
            }

            return default;
        }

        public override string ToString() => "Kubernetes";
    }
}
