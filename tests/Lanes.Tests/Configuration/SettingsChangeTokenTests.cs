using Lanes.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.Tests.Configuration;

public class SettingsChangeTokenTests
{
    [Fact]
    public async Task ChangeToken_ReadOnOtherThreadsWhileSettingsReload_EveryTokenFires_AndTheLastSettingsWin()
    {
        // Discovery providers read the token on their own threads while a reload replaces it: every token handed out
        // fires once replaced, and a reader is never failed by the replacement. (The replaced source is no longer
        // disposed; the window in which a reader could hit a disposed one is too narrow for this test to catch reliably.)
        var source = new SwappableConfiguration();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Add(source).Build());
        services.AddLanes();
        await using var provider = services.BuildServiceProvider();
        var propagator = provider.GetRequiredService<LanePropagator>();

        using var stop = new CancellationTokenSource();
        var tokens = new System.Collections.Concurrent.ConcurrentQueue<Microsoft.Extensions.Primitives.IChangeToken>();
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var token = propagator.GetSettingsChangeToken();
                using var registration = token.RegisterChangeCallback(static _ => { }, null);
                if (tokens.Count < 10_000)
                {
                    tokens.Enqueue(token);
                }
            }
        })).ToArray();

        await Wait.UntilAsync(() => !tokens.IsEmpty, "the readers to take a first token");
        for (var i = 0; i < 2_000; i++)
        {
            source.Replace(new Dictionary<string, string?> { ["Lanes:DefaultLane"] = i % 2 == 0 ? "green" : "yellow" });
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);                                     // rethrows what a reader hit
        source.Replace(new Dictionary<string, string?> { ["Lanes:DefaultLane"] = "blue" });
        Assert.NotEmpty(tokens);
        Assert.All(tokens, static t => Assert.True(t.HasChanged));
        Assert.Equal("blue", propagator.Settings.DefaultLane);
    }
}
