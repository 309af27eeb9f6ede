using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.EndToEnd.Tests.Reliability;

/// <summary>The servers the reliability tests share: a Lanes service and a Lanes gateway over a green and a yellow destination.</summary>
internal static class LaneServers
{
    /// <summary>A Lanes service (preset <c>mspider</c>) answering every GET with <c>{"lane","source"}</c> as it resolved them.</summary>
    public static Task<RunningServer> StartServiceAsync() => TestServers.StartAsync(
        static builder => builder.Services.AddLanes(static o => o.Preset = "mspider"),
        static app =>
        {
            app.UseLanes();
            app.MapGet("/{**rest}", static () => Results.Json(new { lane = LaneContext.Current, source = LaneContext.CurrentSource.ToString() }));
        });

    /// <summary>
    /// A Lanes gateway (preset <c>mspider</c>, Permissive) with one route <paramref name="path"/> to cluster <c>pp</c> of a
    /// green and a yellow destination; <paramref name="lanes"/> adds keys under <c>Lanes:</c>, <paramref name="admin"/> maps <c>/lanes</c>.
    /// </summary>
    public static Task<RunningServer> StartGatewayAsync(Uri green, Uri yellow, string path, IDictionary<string, string?>? lanes = null, bool admin = false)
    {
        var config = new Dictionary<string, string?>
        {
            ["Lanes:Preset"] = "mspider",
            ["ReverseProxy:Routes:all:ClusterId"] = "pp",
            ["ReverseProxy:Routes:all:Match:Path"] = path,
            ["ReverseProxy:Clusters:pp:Destinations:green:Address"] = green.ToString(),
            ["ReverseProxy:Clusters:pp:Destinations:green:Metadata:lane"] = "green",
            ["ReverseProxy:Clusters:pp:Destinations:yellow:Address"] = yellow.ToString(),
            ["ReverseProxy:Clusters:pp:Destinations:yellow:Metadata:lane"] = "yellow",
        };
        foreach (var (key, value) in lanes ?? new Dictionary<string, string?>())
        {
            config["Lanes:" + key] = value;
        }

        return TestServers.StartAsync(
            static builder => builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy")).AddLanes(),
            app =>
            {
                if (admin)
                {
                    app.MapLanesAdmin().AllowAnonymousOnLoopback();
                }

                app.MapReverseProxy(static proxy =>
                {
                    proxy.UseLaneSubsets();
                    proxy.UseLoadBalancing();
                });
            },
            config);
    }
}
