using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;

namespace Lanes.Testing;

/// <summary>
/// A service-discovery provider for tests: one instance (loopback, <c>port</c>) labelled <c>lane</c>, for the service
/// named (or, with <see langword="null"/>, for every name). It counts how often it was asked; after
/// <see cref="Fail"/> resolving throws with the given message and its change token fires, so a follower refreshes and
/// meets the failure.
/// </summary>
internal sealed class SwitchableDiscoveryProvider(string? service, int port, string lane) : IServiceEndpointProviderFactory, IDisposable
{
    private readonly CancellationTokenSource _changes = new();
    private readonly int _port = port;
    private readonly string _lane = lane;
    private volatile string? _failure;
    private int _asked;

    /// <summary>How many times a resolution asked this provider.</summary>
    public int Asked => Volatile.Read(ref _asked);

    /// <summary>From now on resolving throws <see cref="InvalidOperationException"/> with <paramref name="message"/>; the token fires.</summary>
    public void Fail(string message)
    {
        _failure = message;
        _changes.Cancel();
    }

    public void Dispose() => _changes.Dispose();

    public bool TryCreateProvider(ServiceEndpointQuery query, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IServiceEndpointProvider? provider)
    {
        provider = service is null || query.ServiceName == service ? new Provider(this) : null;
        return provider is not null;
    }

    private sealed class Provider(SwitchableDiscoveryProvider owner) : IServiceEndpointProvider
    {
        public ValueTask PopulateAsync(IServiceEndpointBuilder endpoints, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref owner._asked);
            if (owner._failure is { } failure)
            {
                throw new InvalidOperationException(failure);
            }

            var endpoint = ServiceEndpoint.Create(new IPEndPoint(IPAddress.Loopback, owner._port));
            endpoint.WithLane(owner._lane, "a");
            endpoints.Endpoints.Add(endpoint);
            endpoints.AddLaneChangeToken(new CancellationChangeToken(owner._changes.Token));
            return default;
        }

        public ValueTask DisposeAsync() => default;
    }
}
