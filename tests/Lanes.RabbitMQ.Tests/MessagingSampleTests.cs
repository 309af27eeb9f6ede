using System.Globalization;
using Lanes.EndToEnd.Tests.Samples;
using Lanes.Testing;

namespace Lanes.RabbitMQ.Tests;

/// <summary>samples/Messaging as a user runs it, against the test broker: the table, serving, SIGTERM and bad input.</summary>
[Collection(BrokerGroup.Name)]
public sealed class MessagingSampleTests(Broker broker)
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Once_PrintsEveryRowAsExpected_ExitsZero_AndDeletesItsTopology()
    {
        using var sample = SampleProcess.Start("Messaging", "--once", "--amqp", broker.Uri.ToString());
        var exit = await sample.WaitForExitAsync(Within);

        Assert.True(exit is not null, $"still running after {Within.TotalSeconds} s\n{sample.Stdout}");
        Assert.True(exit.Value.ExitCode == 0, $"exit {exit.Value.ExitCode}\n{sample.Stdout}\n{sample.Stderr}");
        Assert.Contains("Every row matched its expectation (4 rows).", sample.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(" NO", sample.Stdout, StringComparison.Ordinal);
        await AssertExchangeGoneAsync(sample.Stdout);
    }

    [Fact]
    public async Task Serving_AcceptsOrders_ThenStopsOnSigtermWithExitZero_AndCleansUp()
    {
        using var sample = SampleProcess.Start("Messaging", "--amqp", broker.Uri.ToString());
        var address = (await sample.WaitForOutputAsync(@"^Serving; try: curl -X POST -H 'x-mspider-lane: yellow' (http://127\.0\.0\.1:\d+/)order/42")).Groups[1].Value;
        using (var client = new HttpClient { BaseAddress = new Uri(address) })
        using (var request = new HttpRequestMessage(HttpMethod.Post, "order/7") { Headers = { { "x-mspider-lane", "yellow" } } })
        {
            using var accepted = await client.SendAsync(request);
            Assert.Equal(System.Net.HttpStatusCode.Accepted, accepted.StatusCode);
        }

        sample.Signal(SampleProcess.SigTerm);
        var exit = await sample.WaitForExitAsync(Within);

        Assert.True(exit is not null, $"still running {Within.TotalSeconds} s after SIGTERM\n{sample.Stdout}");
        Assert.Equal(0, exit.Value.ExitCode);
        await AssertExchangeGoneAsync(sample.Stdout);
    }

    [Theory]
    [InlineData("--amqp", "ftp://127.0.0.1/", "--amqp takes an amqp:// or amqps:// URI.")]
    [InlineData("--amqp", null, "--amqp takes an amqp:// or amqps:// URI.")]
    [InlineData("--frobnicate", null, "unknown argument '--frobnicate'.")]
    [InlineData("--amqp", "closed", "no RabbitMQ at 127.0.0.1:")]
    public async Task BadArgumentsOrNoBroker_OneLineOnStandardError_ExitTwo(string option, string? value, string expected)
    {
        string[] args = value switch
        {
            null => ["--once", option],
            "closed" => ["--once", option, "amqp://127.0.0.1:" + ClosedPorts.Next().ToString(CultureInfo.InvariantCulture)],
            _ => ["--once", option, value],
        };
        using var sample = SampleProcess.Start("Messaging", args);
        var exit = await sample.WaitForExitAsync(Within);

        Assert.True(exit is not null, $"still running after {Within.TotalSeconds} s\n{sample.Stdout}");
        Assert.Equal(2, exit.Value.ExitCode);
        Assert.StartsWith("messaging: " + expected, sample.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", sample.Stderr, StringComparison.Ordinal);          // no stack trace
    }

    private async Task AssertExchangeGoneAsync(string stdout)
    {
        var exchange = System.Text.RegularExpressions.Regex.Match(stdout, "publishes to '([^']+)'").Groups[1].Value;
        Assert.StartsWith("orders-", exchange, StringComparison.Ordinal);
        await using var probe = await broker.Connection.CreateChannelAsync();
        var gone = await Assert.ThrowsAnyAsync<Exception>(() => probe.ExchangeDeclarePassiveAsync(exchange));
        Assert.Contains("NOT_FOUND", gone.Message, StringComparison.Ordinal);
    }
}
