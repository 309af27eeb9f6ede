using Lanes.Testing;

namespace Lanes.EndToEnd.Tests.Reliability;

/// <summary>
/// Every bad input of <see cref="BadInputCases"/> sent as raw bytes to a real Kestrel, once through a Lanes service and
/// once through the Lanes gateway: the documented status (never a 500), the documented lane (the service's
/// <c>LaneContext.Current</c>, or what the gateway's upstream received and which instance served it), nothing raw
/// echoed into the response, and every Lanes log line short printable ASCII without the raw value.
/// </summary>
public class BadInputTests(BadInputTargets targets) : IClassFixture<BadInputTargets>
{
    public static IEnumerable<object[]> ServiceCases => BadInputCases.Names("service");

    public static IEnumerable<object[]> GatewayCases => BadInputCases.Names("gateway");

    [Theory]
    [MemberData(nameof(ServiceCases))]
    [MemberData(nameof(GatewayCases))]
    public async Task BadInput_HasItsDocumentedOutcome_NeverA500_NeverEchoedRaw(string target, string name)
    {
        // Arrange
        var input = BadInputCases.ByName[name];
        var server = target == "service" ? targets.Service : targets.Gateway;
        var testId = Guid.NewGuid().ToString("N");
        var headers = input.Headers.Append(RawHttp.H(BadInputTargets.TestId, testId));

        // Act
        var response = await RawHttp.GetAsync(server.Address, "/probe", headers);

        // Assert: status and lane.
        Assert.Equal(input.Status, response.Status);
        if (input.Lane is null)
        {
            Assert.False(targets.Upstream.ContainsKey(testId), "a request Kestrel refused must not reach an upstream");
        }
        else if (target == "service")
        {
            Assert.Equal(input.Lane, BadInputTargets.ServiceLane(response));
        }
        else
        {
            var received = targets.Upstream[testId];
            var lane = input.ExpectedGatewayLane!;
            Assert.Equal(lane == "yellow" ? "yellow" : "green", received.Instance);
            Assert.Equal(lane, Assert.Single(received.LaneHeader));
            Assert.Equal(["x-mspider-lane=" + lane], received.LaneMembers);
            Assert.Equal(0, received.Alias.Count);
            Assert.Equal("/probe", received.Path);
        }

        // Assert: no response header carries the lane (debug headers are off), nothing raw comes back, and Lanes' log
        // lines stay short, printable and escaped.
        if ((target == "service" ? input.Lane : input.ExpectedGatewayLane) is { Length: > 2 } resolved)
        {
            Assert.DoesNotContain(resolved, response.Head, StringComparison.Ordinal);
        }

        if (input.Needle is not null)
        {
            Assert.False(response.Contains(input.Needle), $"the response echoes the raw input: {response.Head}");
        }

        AssertLanesLogsAreSafe(server.Logs, input.Needle);
    }

    internal static void AssertLanesLogsAreSafe(InMemoryLoggerProvider logs, string? needle)
    {
        // Printable ASCII up to 64 characters without quotes or backslashes is its own escaped form, so it may appear.
        var needleMayAppear = needle is null || (needle.Length <= 64 && needle.All(static c => c is >= ' ' and <= '~' and not '"' and not '\\'));
        foreach (var record in logs.Records.Where(static r => r.Category.StartsWith("Lanes", StringComparison.Ordinal)))
        {
            Assert.True(record.Message.Length <= 1024, $"log line of {record.Message.Length} characters");
            Assert.True(record.Message.All(static c => c is >= ' ' and <= '~'), $"log line with a control or non-ASCII character: {Shown(record.Message)}");
            if (!needleMayAppear)
            {
                Assert.DoesNotContain(needle!, record.Message, StringComparison.Ordinal);
            }

            foreach (var (_, value) in record.Scope)
            {
                var text = value?.ToString() ?? string.Empty;
                Assert.True(text.Length <= 256 && text.All(static c => c is >= ' ' and <= '~'), $"scope value {Shown(text)}");
            }
        }
    }

    /// <summary>
    /// A failure message's view of a text that failed the check: printable ASCII as it is, anything else as
    /// <c>\uXXXX</c>, at most 200 characters (the lane rule's escape is shared source of several packages this project
    /// sees the internals of, so it cannot be named here).
    /// </summary>
    private static string Shown(string text)
        => string.Concat(text.Take(200).Select(static c => c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:x4}"));
}
