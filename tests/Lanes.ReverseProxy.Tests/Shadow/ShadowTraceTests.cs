using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Lanes.Testing;

namespace Lanes.ReverseProxy.Tests.Shadow;

/// <summary>
/// A shadow copy stays in the primary request's trace (as Envoy's mirror keeps it): the gateway's
/// <c>Lanes.Gateway.Shadow</c> span is a child of the primary's, and the shadow lane's instance receives a
/// <c>traceparent</c> of that trace. Process-wide: an <see cref="ActivityListener"/> sees every test's activities.
/// </summary>
[Collection(ProcessWideHookGroup.Name)]
public sealed class ShadowTraceTests
{
    [Fact]
    public async Task TheCopysSpan_IsAChildOfThePrimarysTrace_AndTheShadowInstanceReceivesThatTrace()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name is "Lanes.ReverseProxy" or "Microsoft.AspNetCore",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var config = GatewayConfig.Mspider(green, yellow)
            .Lanes("Shadow:pp:Cluster", "pp")
            .Lanes("Shadow:pp:Lane", "yellow")
            .Lanes("Shadow:pp:Percent", "100");
        await using var gateway = await Gateway.StartAsync(config);
        var traceId = ActivityTraceId.CreateRandom();
        var traceparent = $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01";

        var (response, echo) = await gateway.SendAsync("/x", ("traceparent", traceparent));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("green", echo!.Instance);

        var shadow = await Wait.ForAsync(
            () => Task.FromResult(stopped.FirstOrDefault(a => a.OperationName == "Lanes.Gateway.Shadow" && a.TraceId == traceId)),
            static a => a is not null,
            "the shadow copy's span to end");
        Assert.Equal(traceId, shadow!.TraceId);
        Assert.Equal("yellow", shadow.GetTagItem("lane.name"));
        var copy = await Wait.ForAsync(() => Task.FromResult(yellow.Headers.FirstOrDefault()), static h => h is not null, "the copy to reach yellow");
        Assert.Equal("1", copy!["x-lanes-shadow"]);
        Assert.Equal(traceId.ToString(), copy["traceparent"].Split('-')[1]);
    }
}
