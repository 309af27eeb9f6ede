using System.Diagnostics.Metrics;
using Lanes.Routing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Model;

namespace Lanes.ReverseProxy;

/// <summary>
/// What the gateway's request path tells whoever listens, and nothing about who that is. Two kinds of news:
/// <list type="bullet">
/// <item>counted ones go to the <c>Lanes</c> meter, for every metrics pipeline and the admin page alike (a colouring rule
/// that fired: <see cref="LanesDiagnostics.ColouredInstrument"/>; routing decisions are <see cref="LanesDiagnostics.RoutedInstrument"/>);</item>
/// <item>ones a meter cannot carry (a lane's own name, unbounded; the YARP destination that failed) go to the
/// <see cref="ILaneGatewayObserver"/>s subscribed in this application, checked with one read when nobody is.</item>
/// </list>
/// The admin page (<c>MapLanesAdmin</c>) is one subscriber; the gateway's middlewares do not know it exists. Paths taken
/// out of the counts (<see cref="ExcludeFromCounts"/>) are requests the gateway serves itself, such as the admin page's
/// own two-second refresh, which would otherwise show up as lane traffic.
/// </summary>
internal sealed class LaneGatewayEvents : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Counter<long> _coloured;
    private volatile ILaneGatewayObserver[] _observers = [];
    private volatile PathString[] _uncounted = [];
    private object? _tenant;

    public LaneGatewayEvents(LaneTelemetry telemetry)
    {
        ArgumentNullException.ThrowIfNull(telemetry);
        _coloured = telemetry.Meter.CreateCounter<long>(
            LanesDiagnostics.ColouredInstrument, "{request}", "Requests a colouring rule of the gateway's entry gave a lane, by rule index and lane.");
    }

    /// <summary>True when some observer is subscribed: only then does the gateway look at what only observers need.</summary>
    public bool HasObservers => _observers.Length != 0;

    public void Subscribe(ILaneGatewayObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        lock (_gate)
        {
            _observers = [.. _observers, observer];
        }
    }

    /// <summary>The one object of <typeparamref name="T"/> this application keeps beside the gateway (the admin page's state), made once.</summary>
    public T GetOrAddTenant<T>(Func<T> create)
        where T : class
    {
        lock (_gate)
        {
            if (_tenant is T existing)
            {
                return existing;
            }

            var tenant = create();
            _tenant = tenant;
            return tenant;
        }
    }

    /// <summary>Requests under <paramref name="pattern"/> (a fixed prefix; one with route parameters is ignored) are not lane traffic.</summary>
    public void ExcludeFromCounts(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (pattern.Contains('{', StringComparison.Ordinal))
        {
            return;
        }

        var prefix = new PathString("/" + pattern.Trim('/'));
        lock (_gate)
        {
            _uncounted = [.. _uncounted, prefix];
        }
    }

    public bool IsCounted(PathString path)
    {
        var prefixes = _uncounted;
        for (var i = 0; i < prefixes.Length; i++)
        {
            if (path.StartsWithSegments(prefixes[i], StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Disposes the tenant (its meter listener) with the application.</summary>
    public void Dispose()
    {
        object? tenant;
        lock (_gate)
        {
            tenant = _tenant;
            _tenant = null;
            _observers = [];
        }

        (tenant as IDisposable)?.Dispose();
    }

    /// <summary>A colouring rule gave the request its lane (the rule's index in <c>Lanes:Colouring</c>).</summary>
    public void Coloured(int rule, string lane)
    {
        if (_coloured.Enabled)                             // no listener: no boxing of the rule index per request
        {
            _coloured.Add(1, new KeyValuePair<string, object?>(LanesDiagnostics.ColouringRuleAttribute, rule), new KeyValuePair<string, object?>(LanesDiagnostics.LaneAttribute, lane));
        }
    }

    /// <summary>A counted request entered with <paramref name="lane"/>, resolved from <paramref name="source"/>.</summary>
    public void LaneSeen(string lane, LaneSource source)
    {
        foreach (var observer in _observers)
        {
            observer.LaneSeen(lane, source);
        }
    }

    /// <summary>A counted request came with <paramref name="lane"/>, which trust AcceptDeclared dropped.</summary>
    public void LaneDropped(string lane)
    {
        foreach (var observer in _observers)
        {
            observer.LaneDropped(lane);
        }
    }

    /// <summary>The request sent to <paramref name="destination"/> could not be completed or was answered with a 5xx.</summary>
    public void DestinationFailed(DestinationState destination)
    {
        foreach (var observer in _observers)
        {
            observer.DestinationFailed(destination);
        }
    }
}

/// <summary>A subscriber to <see cref="LaneGatewayEvents"/>. Called on the request path: return quickly, never throw.</summary>
internal interface ILaneGatewayObserver
{
    void LaneSeen(string lane, LaneSource source);

    void LaneDropped(string lane);

    void DestinationFailed(DestinationState destination);
}
