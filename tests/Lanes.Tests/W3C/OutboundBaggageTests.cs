using System.Diagnostics;

namespace Lanes.Tests.W3C;

/// <summary><c>LanePropagator.InjectCall</c>: the one path every transport shares, over request headers as the HttpClient handler uses it.</summary>
public class OutboundBaggageTests
{
    /// <summary>
    /// Writes the lane onto <paramref name="request"/> as the HttpClient handler does: <paramref name="probeRuntime"/> true
    /// when the runtime's propagator has still to run (its Activity baggage is merged), false when it already ran.
    /// </summary>
    private static void ApplyTo(LanePropagator propagator, HttpRequestMessage request, bool probeRuntime, global::OpenTelemetry.Baggage otel)
    {
        var carrier = new RequestCarrier(request);
        propagator.InjectCall(ref carrier, new LaneCallOptions { ExcludeActivityBaggage = !probeRuntime, Baggage = otel });
    }

    private static readonly LanePropagator MSpider = LanePropagator.Create(new LaneOptions().UsePreset("mspider"));

    private static string? Baggage(HttpRequestMessage request)
        => request.Headers.TryGetValues("baggage", out var values) ? string.Join(",", values) : null;

    private static string? Lane(HttpRequestMessage request)
        => request.Headers.TryGetValues("x-mspider-lane", out var values) ? string.Join(",", values) : null;

    [Fact]
    public async Task ApplyTo_NothingElseToMerge_WritesTheLaneMemberAlone()
    {
        await Task.Yield();
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://upstream/");

        using (LaneContext.Begin("yellow"))
        {
            ApplyTo(MSpider, request, probeRuntime: true, default);
        }

        Assert.Equal("yellow", Lane(request));
        Assert.Equal("x-mspider-lane=yellow", Baggage(request));
    }

    [Fact]
    public async Task ApplyTo_Twice_KeepsOneLaneMemberAndEveryOtherMember()
    {
        await Task.Yield();
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://upstream/");
        request.Headers.TryAddWithoutValidation("baggage", "k=v;p=1, x-mspider-lane=blue");

        using (LaneContext.Begin("yellow"))
        {
            ApplyTo(MSpider, request, probeRuntime: true, default);
            ApplyTo(MSpider, request, probeRuntime: false, default);
        }

        Assert.Equal("yellow", Lane(request));
        Assert.Equal("x-mspider-lane=yellow,k=v;p=1", Baggage(request));
    }

    [Fact]
    public async Task ApplyTo_AppSetInvalidLaneHeader_IsLeftAlone_AndNoMemberIsAdded()
    {
        await Task.Yield();
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://upstream/");
        request.Headers.TryAddWithoutValidation("x-mspider-lane", "not a lane!");

        using (LaneContext.Begin("yellow"))
        {
            ApplyTo(MSpider, request, probeRuntime: true, default);
        }

        Assert.Equal("not a lane!", Lane(request));
        Assert.Null(Baggage(request));
    }

    [Fact]
    public async Task ApplyTo_NoLane_TouchesNothing()
    {
        await Task.Yield();
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://upstream/");
        request.Headers.TryAddWithoutValidation("baggage", "k=v");

        using (LaneContext.Begin((string?)null))
        {
            ApplyTo(MSpider, request, probeRuntime: true, global::OpenTelemetry.Baggage.Create(new Dictionary<string, string> { ["x-mspider-lane"] = "yellow" }));
        }

        Assert.Null(Lane(request));
        Assert.Equal("k=v", Baggage(request));
    }

    [Theory]
    [InlineData("k=v,x-mspider-lane=bad%0Avalue", "k=v")]
    [InlineData("x-mspider-lane=dev1,k=v,x-mspider-lane=dev2", "k=v")]
    [InlineData("x-mspider-lane=bad%0Avalue", null)]
    [InlineData("x-mspider-lane=blue,k=v", "x-mspider-lane=blue,k=v")]
    public async Task ApplyTo_NoLane_RemovesALaneMemberThatIsNotOneValidLane_KeepsEverythingElse(string baggage, string? expected)
    {
        await Task.Yield();
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://upstream/");
        request.Headers.TryAddWithoutValidation("baggage", baggage);

        using (LaneContext.Begin((string?)null))
        {
            ApplyTo(MSpider, request, probeRuntime: false, default);
        }

        Assert.Null(Lane(request));
        Assert.Equal(expected, Baggage(request));
    }

    [Fact]
    public async Task ApplyTo_NoLane_RuntimeStillToRun_WritesActivityBaggageWithoutTheInvalidLaneMember()
    {
        await Task.Yield();
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://upstream/");
        using var onlyLane = new HttpRequestMessage(HttpMethod.Get, "http://upstream/");
        using var activity = new Activity("inbound").SetIdFormat(ActivityIdFormat.W3C).AddBaggage("x-mspider-lane", "bad\nvalue").AddBaggage("k", "v").Start();

        using (LaneContext.Begin((string?)null))
        {
            ApplyTo(MSpider, request, probeRuntime: true, default);
        }

        // The runtime fills only absent headers: with 'baggage' present it sends this instead of the invalid member.
        Assert.Equal("k=v", Baggage(request));
        activity.Stop();

        using var laneOnly = new Activity("inbound").SetIdFormat(ActivityIdFormat.W3C).AddBaggage("x-mspider-lane", "a b").Start();
        using (LaneContext.Begin((string?)null))
        {
            ApplyTo(MSpider, onlyLane, probeRuntime: true, default);
        }

        Assert.Equal(string.Empty, Baggage(onlyLane));
    }

    [Fact]
    public async Task ApplyTo_OtelBaggageWithCrLf_IsPercentEncoded_NeverWrittenRaw()
    {
        await Task.Yield();
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://upstream/");
        var otel = global::OpenTelemetry.Baggage.Create(new Dictionary<string, string> { ["note"] = "a\r\nInjected: 1", ["bad key"] = "x" });

        using (LaneContext.Begin("yellow"))
        {
            ApplyTo(MSpider, request, probeRuntime: false, otel);
        }

        Assert.Equal("x-mspider-lane=yellow,note=a%0D%0AInjected:%201", Baggage(request));
    }

    /// <summary>Request headers as a Lanes carrier (the shape of Lanes.Http's, kept here so core is tested alone).</summary>
    private readonly struct RequestCarrier(HttpRequestMessage request) : Lanes.Resolution.ILaneCarrier
    {
        public Microsoft.Extensions.Primitives.StringValues GetValues(string name)
            => request.Headers.NonValidated.TryGetValues(name, out var values) ? new Microsoft.Extensions.Primitives.StringValues([.. values]) : default;

        public void SetValue(string name, string value)
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }

        public void Remove(string name) => request.Headers.Remove(name);
    }
}
