using Lanes.ReverseProxy.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>The lane step of YARP's proxy pipeline.</summary>
public static partial class LanesReverseProxyApplicationBuilderExtensions
{
    /// <summary>
    /// Adds lane subset selection (docs/behaviour.md, "Subset selection") to the proxy pipeline. Call it first, before session affinity and load
    /// balancing: YARP has then filtered destinations by health, and everything after picks only from the subset.
    /// Clusters without lane metadata pass through untouched. A gateway with lane-aware clusters whose proxy pipeline
    /// lacks this step does not start.
    /// </summary>
    /// <example><code>
    /// app.MapReverseProxy(proxy =>
    /// {
    ///     proxy.UseLaneSubsets();
    ///     proxy.UseSessionAffinity();
    ///     proxy.UseLoadBalancing();
    ///     proxy.UsePassiveHealthChecks();
    /// });
    /// </code></example>
    public static IReverseProxyApplicationBuilder UseLaneSubsets(this IReverseProxyApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.ApplicationServices.GetService(typeof(LaneClusterRouting)) is not LaneClusterRouting routing)
        {
            throw new InvalidOperationException(
                "Lanes is not registered for the reverse proxy: call services.AddReverseProxy().AddLanes() before proxy.UseLaneSubsets().");
        }

        routing.SubsetStepInstalled = true;
        builder.UseMiddleware<LaneSubsetMiddleware>();
        return builder;
    }
}
