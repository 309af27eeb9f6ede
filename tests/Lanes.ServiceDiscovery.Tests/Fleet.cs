using Grpc.Core.Interceptors;
using Lanes.Grpc.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Lanes.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace Lanes.ServiceDiscovery.Tests;

/// <summary>Real instances on loopback: HTTP ones (WireMock.Net, answering their name) and gRPC ones (Kestrel, h2c).</summary>
internal static class Fleet
{
    public static readonly Dictionary<string, string?> NsfLanes = new() { ["Lanes:Preset"] = "nsf" };

    /// <summary>An HTTP instance that answers 200 with its name to anything.</summary>
    public static WireMockServer Http(string name, int status = 200)
    {
        var server = WireMockServer.Start(new WireMockServerSettings { Urls = ["http://127.0.0.1:0"] });
        server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(status).WithBody(name));
        return server;
    }

    /// <summary>
    /// Stops a WireMock instance and waits until its port refuses connections: WireMock's <c>Stop</c> returns before
    /// its listener is gone, so a call made right after it may still be served.
    /// </summary>
    public static async Task StopAsync(WireMockServer server)
    {
        var port = server.Port;
        server.Stop();
        await Wait.UntilAsync(
            async () =>
            {
                using var probe = new System.Net.Sockets.TcpClient();
                try
                {
                    await probe.ConnectAsync(System.Net.IPAddress.Loopback, port);
                    return false;
                }
                catch (System.Net.Sockets.SocketException)
                {
                    return true;
                }
            },
            $"WireMock on port {port} to refuse connections after Stop",
            static () => "it still accepts connections");
    }

    /// <summary>A gRPC echo instance (h2c, behind <c>app.UseLanes()</c>) that answers with its name; <paramref name="interceptor"/> runs first.</summary>
    public static Task<RunningServer> GrpcAsync(string name, Interceptor? interceptor = null)
        => TestServers.StartAsync(
            builder =>
            {
                builder.WebHost.ConfigureKestrel(static k => k.ConfigureEndpointDefaults(static l => l.Protocols = HttpProtocols.Http2));
                builder.Services.AddLanes();
                builder.Services.AddGrpc(o =>
                {
                    if (interceptor is not null)
                    {
                        o.Interceptors.Add(interceptor.GetType());        // resolved from the container: this instance
                    }
                });
                if (interceptor is not null)
                {
                    builder.Services.AddSingleton(interceptor.GetType(), interceptor);
                }
                builder.Services.AddSingleton(new EchoService.Identity(name));
            },
            static app =>
            {
                app.UseLanes();
                app.MapGrpcService<EchoService>();
            },
            NsfLanes);

    /// <summary>
    /// <c>Lanes:Services:&lt;service&gt;</c> keys for one service: its policy, declared lanes and instances (id → address,
    /// lane; a null lane is unlabelled).
    /// </summary>
    public static void Service(
        IDictionary<string, string?> config,
        string service,
        string policy,
        string? declared,
        params (string Id, string Address, string? Lane)[] instances)
    {
        var key = $"Lanes:Services:{service}";
        config[$"{key}:Metadata:lanePolicy"] = policy;
        if (declared is not null)
        {
            config[$"{key}:Metadata:lanes"] = declared;
        }

        foreach (var (id, address, lane) in instances)
        {
            config[$"{key}:Instances:{id}:Address"] = address;
            if (lane is not null)
            {
                config[$"{key}:Instances:{id}:Metadata:lane"] = lane;
            }
        }
    }

    /// <summary>The address of a port nothing listens on: an instance that is down.</summary>
    public static string Dead() => $"http://127.0.0.1:{ClosedPorts.Next()}";
}
