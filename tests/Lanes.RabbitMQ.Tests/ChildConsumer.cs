using System.Globalization;
using RabbitMQ.Client;

namespace Lanes.RabbitMQ.Tests;

/// <summary>
/// This test assembly's own entry point, for tests that must kill a consumer's process (SIGKILL: no StopAsync, no
/// clean close): <c>dotnet Lanes.RabbitMQ.Tests.dll consume URI TOPOLOGY LANE FALLBACK_MS DELAY_MS</c> runs one lane
/// consumer (Permissive) and prints <c>ready</c>, then <c>got ID</c> when a handler starts and <c>handled ID</c> when it
/// completes (before the acknowledgement, so a message killed after "handled" is a duplicate, never a loss).
/// DELAY_MS -1 blocks every handler until the process dies. Under the test runner this is never called.
/// </summary>
public static class ChildConsumer
{
    public static async Task<int> Main(string[] args)
    {
        if (args is not ["consume", var uri, var name, var lane, var fallbackMs, var delayMs])
        {
            await Console.Error.WriteLineAsync("usage: consume URI TOPOLOGY LANE FALLBACK_MS DELAY_MS");
            return 2;
        }

        var delay = int.Parse(delayMs, CultureInfo.InvariantCulture);
        var propagator = Harness.Nsf();
        var topology = new LaneQueueTopology(name, propagator, new LaneQueueOptions { FallbackAfter = TimeSpan.FromMilliseconds(int.Parse(fallbackMs, CultureInfo.InvariantCulture)) });
        await using var connection = await new ConnectionFactory { Uri = new Uri(uri), ClientProvidedName = "lanes-tests-child" }.CreateConnectionAsync();
        await using var consumer = await LaneQueueConsumer.StartAsync(connection, topology, lane, propagator, async (message, ct) =>
        {
            Console.Out.WriteLine($"got {message.Properties.MessageId}");
            await Task.Delay(delay < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(delay), ct);
            Console.Out.WriteLine($"handled {message.Properties.MessageId}");
        });
        Console.Out.WriteLine("ready");
        await Task.Delay(Timeout.Infinite);
        return 0;
    }
}
