using Microsoft.AspNetCore.Http;

namespace Lanes.ReverseProxy.Admin;

/// <summary>
/// Whether <c>MapLanesAdmin</c> was called, and the paths it mapped. Until it is called nothing reads what the admin page
/// shows, so the gateway keeps it off the request path: no observed lanes, rule hits, per-cluster decision counts or
/// destination failures are recorded (the <c>Lanes</c> meter still counts every request). The gateway's entry still
/// gives the admin requests a lane (the page is served like any endpoint), but does not count them as lane traffic:
/// the page's own 2-second refresh would otherwise show up in the inbound counts, the observed lanes and the colouring
/// rules' hits it reports.
/// </summary>
internal sealed class LaneAdminPaths
{
    private readonly Lock _gate = new();
    private volatile PathString[] _prefixes = [];
    private volatile bool _mapped;

    /// <summary>True once <c>MapLanesAdmin</c> was called: the admin page's own observations are then recorded.</summary>
    public bool Mapped => _mapped;

    public void Add(string pattern)
    {
        _mapped = true;

        // A pattern with route parameters is not a fixed prefix: its requests are counted like any other.
        if (pattern.Contains('{', StringComparison.Ordinal))
        {
            return;
        }

        var prefix = new PathString("/" + pattern.Trim('/'));
        lock (_gate)
        {
            _prefixes = [.. _prefixes, prefix];
        }
    }

    public bool Contains(PathString path)
    {
        var prefixes = _prefixes;
        for (var i = 0; i < prefixes.Length; i++)
        {
            if (path.StartsWithSegments(prefixes[i], StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
