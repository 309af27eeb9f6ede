using Lanes.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lanes.ReverseProxy.Configuration;

/// <summary>
/// The current <see cref="LaneGatewayConfig"/>, built from <see cref="LaneGatewayOptions"/> through the options pattern
/// (the <c>Lanes</c> section, <c>AddLanes(o =&gt; ...)</c> delegates, any <c>services.Configure&lt;LaneGatewayOptions&gt;()</c>).
/// An invalid start-up configuration throws, so the host does not start; an invalid reload is logged as an error
/// naming the setting and refused, and the last good configuration keeps serving
/// (<see cref="ReloadingSnapshot{TOptions, TSnapshot}"/>).
/// </summary>
internal sealed class LaneGatewayConfigSource : IDisposable
{
    private readonly ReloadingSnapshot<LaneGatewayOptions, LaneGatewayConfig> _snapshot;

    public LaneGatewayConfigSource(
        IOptionsFactory<LaneGatewayOptions> factory,
        IEnumerable<IOptionsChangeTokenSource<LaneGatewayOptions>> sources,
        LanePropagator propagator,
        ILogger<LaneGatewayConfigSource> logger)
    {
        ArgumentNullException.ThrowIfNull(propagator);
        _snapshot = new ReloadingSnapshot<LaneGatewayOptions, LaneGatewayConfig>(
            factory, sources, options => LaneGatewayConfig.Create(options, propagator.Settings), logger, "Lane gateway");
    }

    public LaneGatewayConfig Current => _snapshot.Current;

    public void Dispose() => _snapshot.Dispose();

    internal bool Reload() => _snapshot.Reload();
}
