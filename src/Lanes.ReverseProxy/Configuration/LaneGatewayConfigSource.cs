using Lanes.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Lanes.ReverseProxy.Configuration;

/// <summary>
/// Holds the current <see cref="LaneGatewayConfig"/>. Built from the <c>Lanes</c> section (when the app has an
/// <see cref="IConfiguration"/>) and then the code delegates of <c>AddLanes(o =&gt; ...)</c>. An invalid start-up
/// configuration throws, so the host does not start; an invalid reload is logged as an error and refused, and the
/// last good configuration keeps serving. Binding runs here, inside a catch, not in an options monitor callback,
/// so a bad edit (say, an unknown enum name) cannot throw on the file watcher's thread.
/// </summary>
internal sealed class LaneGatewayConfigSource : IDisposable
{
    private readonly IConfiguration? _section;
    private readonly IReadOnlyList<Action<LaneGatewayOptions>> _configure;
    private readonly LaneSettings _settings;
    private readonly ILogger _logger;
    private readonly IDisposable? _subscription;
    private volatile LaneGatewayConfig _current;

    public LaneGatewayConfigSource(
        IConfiguration? configuration,
        IEnumerable<LaneGatewayConfigure> configure,
        LaneSettings settings,
        ILogger<LaneGatewayConfigSource> logger)
    {
        ArgumentNullException.ThrowIfNull(configure);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(logger);
        _section = configuration?.GetSection(LaneOptions.SectionName);
        _configure = [.. configure.Select(static c => c.Action)];
        _settings = settings;
        _logger = logger;
        _current = Build();
        if (_section is not null)
        {
            _subscription = ChangeToken.OnChange(_section.GetReloadToken, Reload);
        }
    }

    public LaneGatewayConfig Current => _current;

    public void Dispose() => _subscription?.Dispose();

    internal void Reload()
    {
        try
        {
            _current = Build();
            LaneGatewayLog.GatewayConfigReloaded(_logger);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException)
        {
            LaneGatewayLog.GatewayConfigRefused(_logger, ex.Message);
        }
    }

    private LaneGatewayConfig Build()
    {
        var options = new LaneGatewayOptions();
        _section?.Bind(options);
        foreach (var configure in _configure)
        {
            configure(options);
        }

        return LaneGatewayConfig.Create(options, _settings);
    }
}

/// <summary>A code delegate passed to <c>IReverseProxyBuilder.AddLanes</c>.</summary>
internal sealed class LaneGatewayConfigure(Action<LaneGatewayOptions> action)
{
    public Action<LaneGatewayOptions> Action { get; } = action;
}
