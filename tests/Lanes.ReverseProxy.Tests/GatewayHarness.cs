using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.ReverseProxy.Tests;

/// <summary>A real upstream on loopback: answers every path with its name and the headers it received; <c>/health</c> follows <see cref="Healthy"/>.</summary>
internal sealed class Upstream : IAsyncDisposable
{
    private Upstream(string name) => Name = name;

    public string Name { get; }

    public volatile bool Healthy = true;

    public RunningServer Server { get; private set; } = null!;

    public Uri Address => Server.Address;

    public ConcurrentQueue<string> Paths { get; } = new();

    /// <summary>The headers of every request received, in order.</summary>
    public ConcurrentQueue<Dictionary<string, string>> Headers { get; } = new();

    public static async Task<Upstream> StartAsync(string name)
    {
        var upstream = new Upstream(name);
        upstream.Server = await TestServers.StartAsync(null, app =>
        {
            app.MapGet("/health", () => upstream.Healthy ? Results.Ok() : Results.StatusCode(500));
            app.Map("/{**rest}", (HttpContext context) =>
            {
                upstream.Paths.Enqueue(context.Request.Path);
                var headers = context.Request.Headers.ToDictionary(static h => h.Key, static h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
                upstream.Headers.Enqueue(headers);
                return Results.Json(new Echo(upstream.Name, headers));
            });
        });
        return upstream;
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

internal sealed record Echo(string Instance, Dictionary<string, string> Headers)
{
    public string? Header(string name)
    {
        foreach (var (key, value) in Headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }
}

/// <summary>Builds gateway configuration: YARP's <c>ReverseProxy</c> section and the <c>Lanes</c> section, as flat keys.</summary>
internal sealed class GatewayConfig
{
    public Dictionary<string, string?> Values { get; } = new(StringComparer.OrdinalIgnoreCase);

    public GatewayConfig Lanes(string key, string? value)
    {
        Values["Lanes:" + key] = value;
        return this;
    }

    public GatewayConfig Route(string routeId, string clusterId, string path = "{**catch-all}")
    {
        Values[$"ReverseProxy:Routes:{routeId}:ClusterId"] = clusterId;
        Values[$"ReverseProxy:Routes:{routeId}:Match:Path"] = path;
        return this;
    }

    public GatewayConfig Cluster(string clusterId, params (string Key, string Value)[] metadata)
    {
        foreach (var (key, value) in metadata)
        {
            Values[$"ReverseProxy:Clusters:{clusterId}:Metadata:{key}"] = value;
        }

        return this;
    }

    public GatewayConfig Destination(string clusterId, string destinationId, Upstream upstream, string? lane = null)
        => Destination(clusterId, destinationId, upstream.Address, lane);

    public GatewayConfig Destination(string clusterId, string destinationId, Uri address, string? lane = null)
    {
        Values[$"ReverseProxy:Clusters:{clusterId}:Destinations:{destinationId}:Address"] = address.ToString();
        if (lane is not null)
        {
            Values[$"ReverseProxy:Clusters:{clusterId}:Destinations:{destinationId}:Metadata:lane"] = lane;
        }

        return this;
    }

    /// <summary>The mspider seed: preset <c>mspider</c>, one catch-all route to cluster <c>pp</c> with a green and a yellow destination.</summary>
    public static GatewayConfig Mspider(Upstream green, Upstream yellow) => new GatewayConfig()
        .Lanes("Preset", "mspider")
        .Route("pp", "pp")
        .Destination("pp", "g", green, "green")
        .Destination("pp", "y", yellow, "yellow");

    /// <summary>YARP active health checks on <c>/health</c> (consecutive failures, threshold 1) every <paramref name="interval"/>.</summary>
    public GatewayConfig ActiveHealthChecks(string clusterId, string interval, string timeout = "00:00:02")
    {
        var prefix = $"ReverseProxy:Clusters:{clusterId}:HealthCheck:Active:";
        return Cluster(clusterId, ("ConsecutiveFailuresHealthPolicy.Threshold", "1"))
            .Set(prefix + "Enabled", "true")
            .Set(prefix + "Interval", interval)
            .Set(prefix + "Timeout", timeout)
            .Set(prefix + "Policy", "ConsecutiveFailures")
            .Set(prefix + "Path", "/health");
    }

    public GatewayConfig Set(string key, string? value)
    {
        Values[key] = value;
        return this;
    }
}

internal static class Gateway
{
    /// <summary>A YARP gateway configured only from <paramref name="config"/>, with Lanes in the proxy pipeline unless <paramref name="withSubsetStep"/> is false.</summary>
    public static Task<RunningServer> StartAsync(
        GatewayConfig? config,
        Action<WebApplicationBuilder>? configure = null,
        bool withSubsetStep = true,
        Action<WebApplication>? configureApp = null,
        Action<IReverseProxyApplicationBuilder>? afterLanes = null)
        => TestServers.StartAsync(
            builder =>
            {
                configure?.Invoke(builder);
                builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy")).AddLanes();
            },
            app =>
            {
                configureApp?.Invoke(app);
                app.MapReverseProxy(proxy =>
                {
                    if (withSubsetStep)
                    {
                        proxy.UseLaneSubsets();
                    }

                    afterLanes?.Invoke(proxy);

                    proxy.UseSessionAffinity();
                    proxy.UseLoadBalancing();
                    proxy.UsePassiveHealthChecks();
                });
            },
            config?.Values);

    public static async Task<(HttpResponseMessage Response, Echo? Echo)> SendAsync(
        this RunningServer gateway, string path, params (string Name, string Value)[] headers)
    {
        using var client = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var response = await client.SendAsync(request);
        Echo? echo = null;
        if (response.IsSuccessStatusCode)
        {
            echo = await response.Content.ReadFromJsonAsync<Echo>(JsonOptions);
        }

        return (response, echo);
    }

    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Every message of an exception, its inner exceptions and aggregated ones (YARP wraps config errors twice).</summary>
    public static string Flatten(Exception? exception)
    {
        var text = string.Empty;
        for (var e = exception; e is not null; e = e.InnerException)
        {
            text += e.Message + "\n";
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    text += Flatten(inner);
                }
            }
        }

        return text;
    }

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}
