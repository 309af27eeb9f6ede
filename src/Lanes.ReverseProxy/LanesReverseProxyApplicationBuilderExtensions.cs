using Lanes.ReverseProxy.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>The lane step of YARP's proxy pipeline.</summary>
public static class LanesReverseProxyApplicationBuilderExtensions
{
    /// <summary>
    /// Adds lane subset selection (DESIGN 6) to the proxy pipeline. Call it first, before session affinity and load
    /// balancing: YARP has then filtered destinations by health, and everything after picks only from the subset.
    /// Clusters without lane metadata pass through untouched.
    /// </summary>
    /// <example><code>
    /// app.MapReverseProxy(proxy =>
    /// {
    ///     proxy.UseLanes();
    ///     proxy.UseSessionAffinity();
    ///     proxy.UseLoadBalancing();
    ///     proxy.UsePassiveHealthChecks();
    /// });
    /// </code></example>
    public static IReverseProxyApplicationBuilder UseLanes(this IReverseProxyApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.ApplicationServices.GetService(typeof(LaneClusterRouting)) is null)
        {
            throw new InvalidOperationException(
                "Lanes is not registered for the reverse proxy: call services.AddReverseProxy().AddLanes() before proxy.UseLanes().");
        }

        builder.UseMiddleware<LaneSubsetMiddleware>();
        return builder;
    }
}
