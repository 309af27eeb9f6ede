using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.Kubernetes.Tests;

/// <summary>Kubernetes objects as the API server returns them, built the way a cluster would hold them.</summary>
internal static class Objects
{
    public const string HangoMark = "nsf.skiff.netease.com/mark";

    public static V1Service Service(string name, IDictionary<string, string>? annotations = null, params (string? Name, int Port)[] ports) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = FakeKubernetes.Namespace, Annotations = annotations },
        Spec = new V1ServiceSpec { Ports = [.. (ports.Length == 0 ? [("http", 80)] : ports).Select(static p => new V1ServicePort { Name = p.Name, Port = p.Port })] },
    };

    public static V1Pod Pod(string name, string? lane, string label = HangoMark) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = FakeKubernetes.Namespace,
            Labels = lane is null ? new Dictionary<string, string> { ["app"] = "svc" } : new Dictionary<string, string> { ["app"] = "svc", [label] = lane },
        },
    };

    /// <summary>An endpoint of a slice: a pod's address, whether it is ready and serving, and whether it is terminating.</summary>
    public sealed record Endpoint(string Address, string? Pod, bool Ready = true, bool? Serving = null, bool? Terminating = null);

    public static V1EndpointSlice Slice(
        string name,
        string service,
        int port,
        IEnumerable<Endpoint> endpoints,
        string portName = "http",
        IDictionary<string, string>? labels = null) => new()
    {
        ApiVersion = "discovery.k8s.io/v1",
        Kind = "EndpointSlice",
        AddressType = "IPv4",
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = FakeKubernetes.Namespace,
            Labels = labels ?? new Dictionary<string, string> { ["kubernetes.io/service-name"] = service },
        },
        Ports = [new Discoveryv1EndpointPort { Name = portName, Port = port, Protocol = "TCP" }],
        Endpoints = [.. endpoints.Select(static e => new V1Endpoint
        {
            Addresses = [e.Address],
            Conditions = new V1EndpointConditions { Ready = e.Ready, Serving = e.Serving ?? e.Ready, Terminating = e.Terminating ?? false },
            TargetRef = e.Pod is null ? null : new V1ObjectReference { Kind = "Pod", Name = e.Pod, NamespaceProperty = FakeKubernetes.Namespace },
        })],
    };
}

/// <summary>
/// Pods as real servers: each on its own loopback address (127.0.0.2, .3, ...) and one shared port, as pods behind one
/// EndpointSlice port are; each answers HTTP with its name, and the lane header it received.
/// </summary>
internal sealed class PodServers : IAsyncDisposable
{
    private readonly List<WebApplication> _apps = [];

    public int Port { get; private set; }

    public Dictionary<string, string> Addresses { get; } = [];

    public static Task<PodServers> StartAsync(params string[] names) => StartAsync(grpc: false, names);

    /// <summary>With <paramref name="grpc"/>, each pod is an h2c gRPC echo server (behind <c>app.UseLanes()</c>, nsf) answering with its name.</summary>
    public static async Task<PodServers> StartAsync(bool grpc, params string[] names)
    {
        var pods = new PodServers();
        var octet = 2;
        foreach (var name in names)
        {
            var address = $"127.0.0.{octet++}";
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls($"http://{address}:{pods.Port}");
            WebApplication app;
            if (grpc)
            {
                builder.WebHost.ConfigureKestrel(static k => k.ConfigureEndpointDefaults(static l => l.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2));
                builder.Configuration["Lanes:Preset"] = "nsf";
                builder.Services.AddLanes();
                builder.Services.AddGrpc();
                builder.Services.AddSingleton(new Lanes.Grpc.Tests.EchoService.Identity(name));
                app = builder.Build();
                app.UseLanes();
                app.MapGrpcService<Lanes.Grpc.Tests.EchoService>();
            }
            else
            {
                app = builder.Build();
                app.Run(context => context.Response.WriteAsync($"{name} {context.Request.Headers["x-nsf-mark"]}".TrimEnd()));
            }

            await app.StartAsync();
            if (pods.Port == 0)
            {
                pods.Port = new Uri(app.Urls.First()).Port;
            }

            pods._apps.Add(app);
            pods.Addresses[name] = address;
        }

        return pods;
    }

    public Objects.Endpoint Endpoint(string pod, bool ready = true, bool? serving = null, bool? terminating = null)
        => new(Addresses[pod], pod, ready, serving, terminating);

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
