using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;

namespace Lanes.ServiceDiscovery;

/// <summary>How a lane-aware endpoint provider reports that its endpoints changed.</summary>
public static class LaneServiceEndpointBuilderExtensions
{
    /// <summary>
    /// Adds <paramref name="changeToken"/> the way the Lanes providers do: when Lanes reads the provider
    /// (<see cref="LaneServiceEndpoints"/>), the token is followed directly, as every provider's token is; when service
    /// discovery's own watcher reads it (an HttpClient with <c>AddServiceDiscovery()</c> but no lane routing, YARP's
    /// discovery destination resolver), the watcher sees it without callbacks (it reads
    /// <see cref="IChangeToken.HasChanged"/> when asked for endpoints, and otherwise polls at its refresh period).
    /// </summary>
    /// <remarks>
    /// Why not <see cref="IServiceEndpointBuilder.AddChangeToken"/>: <c>Microsoft.Extensions.ServiceDiscovery</c> 10.0
    /// (and 11.0.0, checked) disposes its token registration under its lock while a refresh starts, and its callback
    /// takes that lock; a token that fires at that moment deadlocks both threads. A token without callbacks never runs
    /// that callback. Lanes' own reading has no such lock, so for Lanes alone either method is safe.
    /// </remarks>
    public static IServiceEndpointBuilder AddLaneChangeToken(this IServiceEndpointBuilder builder, IChangeToken changeToken)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(changeToken);
        if (builder is ServiceDiscoveryReading lanes)
        {
            lanes.AddChangeToken(changeToken);                       // Lanes reads: followed directly
            return builder;
        }

        builder.AddChangeToken(new PassiveChangeToken(changeToken));
        return builder;
    }

    /// <summary>A token's state without its callbacks.</summary>
    private sealed class PassiveChangeToken(IChangeToken inner) : IChangeToken
    {
        public bool HasChanged => inner.HasChanged;

        public bool ActiveChangeCallbacks => false;

        public IDisposable RegisterChangeCallback(Action<object?> callback, object? state) => NoRegistration.Instance;

        private sealed class NoRegistration : IDisposable
        {
            public static readonly NoRegistration Instance = new();

            public void Dispose()
            {
            }
        }
    }
}
