using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;

namespace Lanes.ServiceDiscovery;

/// <summary>How a lane-aware endpoint provider reports that its endpoints changed.</summary>
public static class LaneServiceEndpointBuilderExtensions
{
    /// <summary>
    /// Adds <paramref name="changeToken"/> the way the Lanes providers do: <see cref="LaneServiceEndpoints"/> follows it
    /// directly (a change is picked up at once), and service discovery's own watcher sees it without callbacks (it
    /// reads <see cref="IChangeToken.HasChanged"/> when asked for endpoints, and otherwise polls at its refresh period).
    /// </summary>
    /// <remarks>
    /// Why not <see cref="IServiceEndpointBuilder.AddChangeToken"/>: <c>Microsoft.Extensions.ServiceDiscovery</c> 10.0
    /// (and 11.0.0, checked) disposes its token registration under its lock while a refresh starts, and its callback
    /// takes that lock; a token that fires at that moment deadlocks both threads. A token without callbacks never runs
    /// that callback.
    /// </remarks>
    public static IServiceEndpointBuilder AddLaneChangeToken(this IServiceEndpointBuilder builder, IChangeToken changeToken)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(changeToken);
        if (builder.Features.Get<LaneChangeTokens>() is not { } tokens)
        {
            builder.Features.Set(tokens = new LaneChangeTokens());
        }

        tokens.Add(changeToken);
        builder.AddChangeToken(new PassiveChangeToken(changeToken));
        return builder;
    }

    /// <summary>The tokens Lanes providers added for one resolution.</summary>
    internal sealed class LaneChangeTokens
    {
        private readonly List<IChangeToken> _tokens = [];

        public void Add(IChangeToken token)
        {
            lock (_tokens)
            {
                _tokens.Add(token);
            }
        }

        public IChangeToken Combined()
        {
            lock (_tokens)
            {
                return _tokens.Count == 1 ? _tokens[0] : new CompositeChangeToken([.. _tokens]);
            }
        }
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
