using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;

namespace Lanes.ServiceDiscovery;

/// <summary>
/// The read adapter over <c>Microsoft.Extensions.ServiceDiscovery</c>: the providers registered with it
/// (<see cref="IServiceEndpointProviderFactory"/>: <c>Lanes:Services</c>, Kubernetes, configuration, DNS, any other), in
/// discovery's own order (as registered, pass-through last), asked directly. <see cref="LaneServiceEndpoints"/> owns
/// each service's state on top of it; discovery's watcher is not asked, so Lanes is not a second watcher stacked on
/// discovery's (docs/behaviour.md, "Service discovery and resilience").
/// </summary>
internal sealed class ServiceDiscoveryReader
{
    private readonly IServiceEndpointProviderFactory[] _factories;

    public ServiceDiscoveryReader(IEnumerable<IServiceEndpointProviderFactory> factories)
    {
        ArgumentNullException.ThrowIfNull(factories);
        var all = factories.ToArray();
        var passThrough = PassThroughFactoryType();
        _factories = [.. all.Where(f => f.GetType() != passThrough), .. all.Where(f => f.GetType() == passThrough)];
    }

    /// <summary>
    /// The providers that take <paramref name="query"/> (<c>scheme://name</c>), in order; <see langword="null"/> when the
    /// query is not one discovery reads or no provider takes it (then no provider knows the name).
    /// </summary>
    public IServiceEndpointProvider[]? CreateProviders(string query)
    {
        if (!ServiceEndpointQuery.TryParse(query, out var parsed))
        {
            return null;
        }

        List<IServiceEndpointProvider>? providers = null;
        foreach (var factory in _factories)
        {
            if (factory.TryCreateProvider(parsed, out var provider))
            {
                (providers ??= []).Add(provider);
            }
        }

        return providers?.ToArray();
    }

    /// <summary>One reading: every provider in turn adds to the same result, as discovery's watcher does.</summary>
    public static async Task<ServiceDiscoveryReading> ReadAsync(IServiceEndpointProvider[] providers, CancellationToken cancellationToken)
    {
        var reading = new ServiceDiscoveryReading();
        foreach (var provider in providers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await provider.PopulateAsync(reading, cancellationToken).ConfigureAwait(false);
        }

        return reading;
    }

    /// <summary>Disposes providers, each on its own: one that throws does not keep the others alive.</summary>
    public static async ValueTask DisposeAsync(IServiceEndpointProvider[]? providers)
    {
        foreach (var provider in providers ?? [])
        {
            try
            {
                await provider.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A provider's own cleanup; nothing Lanes can do about it, and the others still need theirs.
            }
        }
    }

    /// <summary>
    /// The pass-through factory's type, learned from discovery's public registration method (it is registered by type),
    /// not from a type name: discovery runs it after every other provider, so does the reader.
    /// </summary>
    private static Type? PassThroughFactoryType()
    {
        var probe = new ServiceCollection();
        probe.AddPassThroughServiceEndpointProvider();
        return probe.LastOrDefault(static d => d.ServiceType == typeof(IServiceEndpointProviderFactory))?.ImplementationType;
    }
}

/// <summary>
/// What the providers wrote for one reading: endpoints, features (a lane-aware provider's
/// <see cref="ILaneServiceFeature"/>) and the change tokens to follow, all of them followed directly by Lanes.
/// </summary>
internal sealed class ServiceDiscoveryReading : IServiceEndpointBuilder
{
    private readonly List<IChangeToken> _tokens = [];

    public IFeatureCollection Features { get; } = new FeatureCollection();

    public IList<ServiceEndpoint> Endpoints { get; } = new List<ServiceEndpoint>();

    public void AddChangeToken(IChangeToken changeToken)
    {
        ArgumentNullException.ThrowIfNull(changeToken);
        lock (_tokens)
        {
            _tokens.Add(changeToken);
        }
    }

    /// <summary>The tokens the providers gave, in order.</summary>
    public IReadOnlyList<IChangeToken> ChangeTokens()
    {
        lock (_tokens)
        {
            return [.. _tokens];
        }
    }
}
