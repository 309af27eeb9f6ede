using Microsoft.AspNetCore.Http;

namespace Lanes.ReverseProxy.Admin;

/// <summary>
/// The paths <c>MapLanesAdmin</c> mapped. The gateway's entry still gives their requests a lane (the page is served like
/// any endpoint), but does not count them as lane traffic: the page's own 2-second refresh would otherwise show up in
/// the inbound counts, the observed lanes and the colouring rules' hits it reports.
/// </summary>
internal sealed class LaneAdminPaths
{
    private readonly Lock _gate = new();
    private volatile PathString[] _prefixes = [];

    public void Add(string pattern)
    {
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
