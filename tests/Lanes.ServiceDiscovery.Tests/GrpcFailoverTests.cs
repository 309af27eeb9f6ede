using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Net.ClientFactory;
using Lanes.EndToEnd.Tests.Samples;
using Lanes.Grpc.Tests;
using Lanes.Grpc.Tests.Protos;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lanes.ServiceDiscovery.Tests;

/// <summary>
/// Failover of gRPC lane routing (docs/behaviour.md, "Failover"): with no service config of its own, a <c>lanes:///</c>
/// channel retries UNAVAILABLE through the lane picker, so an instance killed or stopped under load costs no call and
/// no call leaves its lane. The instances run in child processes (<c>grpc NAME</c>, <see cref="ChildUpstream"/>).
/// </summary>
public sealed class GrpcFailoverTests
{
    [ModuleInitializer]
    internal static void RegisterChildMode() => ChildUpstream.Modes["grpc"] = RunGrpcChildAsync;

    [Theory]
    [InlineData(SampleProcess.SigKill)]
    [InlineData(SampleProcess.SigTerm)]
    public async Task InstanceKilledOrStoppedUnderLoad_EveryYellowCallIsAnsweredByYellow(int signal)
    {
        using var yellowA = await ChildUpstream.StartAsync("yellow-a", "grpc");
        using var yellowB = await ChildUpstream.StartAsync("yellow-b", "grpc");
        using var green = await ChildUpstream.StartAsync("green", "grpc");
        using var host = await CallerAsync(yellowA.Address, yellowB.Address, green.Address);
        var client = host.Services.GetRequiredService<GrpcClientFactory>().CreateClient<Echo.EchoClient>(nameof(Echo.EchoClient));

        const int total = 400;
        var answers = new ConcurrentQueue<string>();
        var sent = 0;
        var signalled = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref sent) <= total)
            {
                using (LaneContext.Begin("yellow"))
                {
                    try
                    {
                        answers.Enqueue((await client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(20))).Instance);
                    }
                    catch (RpcException e)
                    {
                        answers.Enqueue($"{e.StatusCode}: {e.Status.Detail}");
                    }
                }

                if (answers.Count >= 100 && Interlocked.Exchange(ref signalled, 1) == 0)
                {
                    yellowA.Process.Signal(signal);
                }
            }
        })));
        await host.StopAsync();

        Assert.Equal(1, signalled);
        var wrong = answers.Where(static a => !a.StartsWith("yellow-", StringComparison.Ordinal)).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {total} calls were not answered by yellow: {string.Join(" | ", wrong.Distinct().Take(5))}");
        Assert.Contains("yellow-b", answers);
    }

    /// <summary>
    /// An instance that accepted a call's stream and then closed its connection with GOAWAY (NO_ERROR) before any
    /// response header and stopped listening, as a gracefully stopping Kestrel does in a narrow window (found under load,
    /// docs/testing.md):
    /// grpc-dotnet reports that as <c>INTERNAL</c>, which no retry policy retries; Lanes answers it as
    /// <c>UNAVAILABLE</c> (as grpc-java and grpc-core report a connection closed under a call), so the call is picked
    /// again in its lane. A GOAWAY with an error (INTERNAL_ERROR) is the server's failure: Lanes leaves its status alone.
    /// </summary>
    [Theory]
    [InlineData(0x0u, true)]
    [InlineData(0x2u, false)]
    public async Task InstanceClosingTheConnectionBeforeAnswering_CallIsPickedAgainInItsLane_OnlyForAGracefulClose(uint errorCode, bool retried)
    {
        await using var closing = new ClosingHttp2Peer(errorCode);
        await using var yellow = await GrpcServers.StartEchoAsync("yellow-b");
        await using var green = await GrpcServers.StartEchoAsync("green");
        using var host = await CallerAsync(closing.Address, yellow.Address, green.Address, retries: retried ? null : 0);
        var client = host.Services.GetRequiredService<GrpcClientFactory>().CreateClient<Echo.EchoClient>(nameof(Echo.EchoClient));

        var answers = new List<string>();
        for (var i = 0; i < 40 && (closing.Streams == 0 || answers.Count < 20); i++)
        {
            using (LaneContext.Begin("yellow"))
            {
                try
                {
                    answers.Add((await client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(20))).Instance);
                }
                catch (RpcException e)
                {
                    answers.Add($"{e.StatusCode}: {e.Status.Detail}");
                }
            }
        }

        await host.StopAsync();
        Assert.True(closing.Streams > 0, "no call was sent to the instance that closes its connections");
        Assert.DoesNotContain("green", answers);
        var failed = answers.Where(static a => a != "yellow-b").ToList();
        if (retried)
        {
            Assert.True(failed.Count == 0, $"{failed.Count} of {answers.Count} calls were not answered by yellow-b: {string.Join(" | ", failed.Distinct())}");
        }
        else
        {
            // No retries here, so the call sent to the closing instance fails and shows its status. The client reads the
            // GOAWAY's error (Internal) or, when the close reaches it first, a reset (grpc-dotnet's Unavailable): either
            // way it is grpc-dotnet's answer; Lanes never answers an instance's own error as a refused stream.
            Assert.NotEmpty(failed);
            Assert.All(failed, static a => Assert.DoesNotContain("closed the connection before answering", a, StringComparison.Ordinal));
        }
    }

    /// <summary>A started caller whose Echo client routes <c>lanes:///reviews</c>: two yellow instances and a green one, Permissive.</summary>
    private static async Task<IHost> CallerAsync(Uri yellowA, Uri yellowB, Uri green, int? retries = null)
    {
        var config = new Dictionary<string, string?> { ["Lanes:Preset"] = "mspider" };
        if (retries is { } count)
        {
            config["Lanes:Failover:Retries"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        Fleet.Service(config, "reviews", "Permissive", null,
            ("ya", yellowA.ToString().TrimEnd('/'), "yellow"), ("yb", yellowB.ToString().TrimEnd('/'), "yellow"), ("g", green.ToString().TrimEnd('/'), "green"));
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(config);
        builder.Services.AddLanes();
        builder.Services.AddGrpcClient<Echo.EchoClient>(static o => o.Address = new Uri("lanes:///reviews")).AddGrpcLaneRouting();
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary><c>grpc NAME</c>: an Echo server over h2c on 127.0.0.1, behind <c>UseLanes()</c>; prints <c>listening URL</c>.</summary>
    private static async Task<int> RunGrpcChildAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(static k => k.ConfigureEndpointDefaults(static l => l.Protocols = HttpProtocols.Http2));
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Lanes:Preset"] = "mspider" });
        builder.Services.AddLanes();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(new EchoService.Identity(args[1]));
        var app = builder.Build();
        app.UseLanes();
        app.MapGrpcService<EchoService>();
        await app.StartAsync();
        Console.Out.WriteLine($"listening {app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()}");
        await app.WaitForShutdownAsync();
        return 0;
    }
}
