using Lanes.Grpc.Tests.Protos;
using Lanes.ServiceDiscovery;
using Lanes.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Lanes.Grpc.Tests;

/// <summary>
/// A gRPC channel's resolver follows its service even after <see cref="LaneServiceEndpoints"/> forgot it for want of
/// asks (the balancer picks from the resolver's addresses, so calls do not ask): the forgotten snapshot's token makes
/// the resolver ask again, and later changes still reach the channel.
/// </summary>
public sealed class ForgottenServiceTests
{
    [Fact]
    public async Task ForgottenService_TheChannelAsksAgain_AndFollowsALaterRelabel()
    {
        var lanes = new Dictionary<string, string?> { ["Lanes:Preset"] = "nsf" };
        await using var green = await GrpcServers.StartEchoAsync("green", lanes);
        var source = new SwappableConfiguration();
        Dictionary<string, string?> Config(string lane) => new()
        {
            ["Lanes:Preset"] = "nsf",
            ["Lanes:Services:reviews:Instances:a:Address"] = green.Address.ToString(),
            ["Lanes:Services:reviews:Instances:a:Metadata:lane"] = lane,
        };
        source.Replace(Config("green"));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var idle = TimeSpan.FromMinutes(2);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Add(source).Build());
        services.Configure<LaneOptions>(o => o.ServiceIdleTimeout = idle);
        services.AddLaneServiceEndpoints();
        await using var provider = services.BuildServiceProvider();
        var endpoints = provider.GetRequiredService<LaneServiceEndpoints>();

        var (channel, invoker) = LaneGrpcChannel.ForService(provider, "reviews");
        using (channel)
        {
            var client = new Echo.EchoClient(invoker);
            async Task<string> CallAsync(string lane)
            {
                using (LaneContext.Begin(lane))
                {
                    return (await client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(10))).Instance;
                }
            }

            Assert.Equal("green", await CallAsync("green"));
            var before = (await endpoints.GetAsync("http", "reviews", CancellationToken.None))!;

            // Nobody asks for a whole idle timeout: the service is forgotten, and the channel's resolver asks again.
            time.Advance(idle / 2);
            time.Advance(idle / 2);
            await Wait.UntilAsync(() => before.ChangeToken.HasChanged, "reviews to be forgotten");
            await Wait.UntilAsync(
                () => endpoints.GetStatuses().Any(static s => s.Service == "reviews"),
                "the channel's resolver to ask for reviews again");

            // A relabel after that still reaches the channel: the instance now serves yellow (Permissive: green falls back to it too).
            source.Replace(Config("yellow"));
            await Wait.ForAsync(
                async () =>
                {
                    using (LaneContext.Begin("yellow"))
                    {
                        var reply = await client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
                        return reply.Instance + " " + reply.LaneHeader;
                    }
                },
                static seen => seen == "green yellow",
                "yellow calls to reach the relabelled instance");
        }
    }
}
