using System.Diagnostics;
using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WireMock.Server;

namespace Lanes.Http.Tests;

/// <summary>The hook for HttpClient instances the application creates itself (<c>new HttpClient()</c>).</summary>
[Collection(ProcessWideHookGroup.Name)]
public sealed class LaneDistributedContextPropagatorTests : IAsyncLifetime
{
    private readonly WireMockServer _upstream = Upstreams.Start();
    private IHost? _host;
    private DistributedContextPropagator? _original;

    public async Task InitializeAsync()
    {
        _original = DistributedContextPropagator.Current;
        var builder = Host.CreateApplicationBuilder(["--hostBuilder:reloadConfigOnChange=false"]);
        builder.Services.AddLanes(o => o.UsePreset("mspider")).AddDiagnosticsPropagation();
        _host = builder.Build();
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host!.StopAsync();
        _host.Dispose();
        _upstream.Stop();
    }

    private async Task<(string? Lane, string? TraceParent)> SendWithNewHttpClientAsync(string path, Action<HttpRequestMessage>? configure = null)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(_upstream.Url!), path));
        configure?.Invoke(request);
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (Assert.Single(_upstream.ReceivedHeader(path, "x-mspider-lane")), Assert.Single(_upstream.ReceivedHeader(path, "traceparent")));
    }

    [Fact]
    public async Task NewHttpClient_LaneAndActivityCurrent_CarriesLaneAndStillTraceContext()
    {
        using var activity = new Activity("request").Start();
        using var scope = LaneContext.Begin("yellow");

        var (lane, traceParent) = await SendWithNewHttpClientAsync("/with-activity");

        Assert.Equal("yellow", lane);
        Assert.NotNull(traceParent);
        Assert.Contains(activity.TraceId.ToHexString(), traceParent!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewHttpClient_HeaderSetByApplication_IsKept()
    {
        using var activity = new Activity("request").Start();
        using var scope = LaneContext.Begin("yellow");

        var (lane, _) = await SendWithNewHttpClientAsync("/explicit", r => r.Headers.Add("x-mspider-lane", "blue"));

        Assert.Equal("blue", lane);
    }

    [Fact]
    public async Task NewHttpClient_ScopeLaneLongerThanMaxLength_SendsNoLaneHeader()
    {
        using var activity = new Activity("request").Start();
        using var scope = LaneContext.Begin(new string('y', 100)); // valid for Begin (<= 256), not for this service (63)

        var (lane, traceParent) = await SendWithNewHttpClientAsync("/too-long");

        Assert.Null(lane);
        Assert.NotNull(traceParent);
    }

    [Fact]
    public async Task NewHttpClient_NoLane_SendsNoLaneHeader()
    {
        using var activity = new Activity("request").Start();

        var (lane, traceParent) = await SendWithNewHttpClientAsync("/no-lane");

        Assert.Null(lane);
        Assert.NotNull(traceParent);
    }

    /// <summary>
    /// Documented limitation: the runtime calls the propagator only when an Activity is current or something
    /// listens to HttpClient diagnostics. A background scope with neither sends no lane through this hook; use an
    /// IHttpClientFactory client with <c>AddLanePropagation()</c> there.
    /// </summary>
    [Fact]
    public async Task NewHttpClient_NoActivityAndNoListener_HookDoesNotFire()
    {
        Assert.Null(Activity.Current);
        using var scope = LaneContext.Begin("yellow");

        var (lane, traceParent) = await SendWithNewHttpClientAsync("/no-activity");

        Assert.Null(traceParent);
        Assert.Null(lane);
    }

    [Fact]
    public async Task HostStop_RestoresPreviousPropagator()
    {
        Assert.IsType<LaneDistributedContextPropagator>(DistributedContextPropagator.Current);

        await _host!.StopAsync();

        Assert.Same(_original, DistributedContextPropagator.Current);
    }
}
