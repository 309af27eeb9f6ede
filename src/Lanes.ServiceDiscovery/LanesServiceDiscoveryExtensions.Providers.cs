using Lanes.Routing;
using Lanes.ServiceDiscovery;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// For a lane-aware endpoint provider of your own: label a service's endpoints with their lanes and its routing
/// settings, and report that they changed. These methods are the one way in: the features they set are internal.
/// </summary>
public static partial class LanesServiceDiscoveryExtensions
{
    /// <summary>
    /// Labels <paramref name="endpoint"/> for Lanes: its lane (<see langword="null"/>: unlabelled, part of the baseline),
    /// the instance's name (a pod name; <see langword="null"/>: numbered) and where the label came from (shown on the
    /// gateway's admin page, such as <c>"kubernetes"</c>).
    /// </summary>
    /// <example><code>endpoints.Endpoints.Add(ServiceEndpoint.Create(address).WithLane("yellow", "reviews-v2-7f9c", "my-registry"));</code></example>
    public static ServiceEndpoint WithLane(this ServiceEndpoint endpoint, string? lane, string? instanceId = null, string? origin = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        endpoint.Features.Set<ILaneEndpointFeature>(new LaneEndpointFeature(lane, instanceId, origin));
        return endpoint;
    }

    /// <summary>
    /// Gives the service's endpoints its routing settings (policy, declared lanes, baseline), as the Lanes providers do
    /// from <c>Lanes:Services</c> or Service annotations. Without them Lanes uses the defaults (Permissive).
    /// </summary>
    public static IServiceEndpointBuilder WithLaneSettings(this IServiceEndpointBuilder builder, LaneSubsetSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        builder.Features.Set<ILaneServiceFeature>(new LaneServiceFeature(settings));
        return builder;
    }

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
