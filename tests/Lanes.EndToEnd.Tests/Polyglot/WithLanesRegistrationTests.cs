using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;

namespace Lanes.EndToEnd.Tests.Polyglot;

/// <summary>
/// Where <see cref="LaneTextMapPropagator"/> comes from since it moved to <c>Lanes.OpenTelemetry</c> (issue 41): core's
/// <c>AddLanes()</c> does not register it, <c>WithLanes()</c> does (over the <c>LanePropagator</c> of <c>AddLanes()</c>),
/// and <c>WithLanes()</c> without <c>AddLanes()</c> fails at start saying what to call, not with a DI message about a
/// type the user never named.
/// </summary>
[Collection(ProcessWideHookGroup.Name)]
public sealed class WithLanesRegistrationTests
{
    [Fact]
    public void AddLanesAlone_DoesNotRegisterIt_WithLanes_RegistersItOverTheSamePropagator()
    {
        var core = new ServiceCollection().AddLogging();
        core.AddLanes(static o => o.UsePreset("mspider"));
        using (var provider = core.BuildServiceProvider())
        {
            Assert.Null(provider.GetService<LaneTextMapPropagator>());
        }

        var both = new ServiceCollection().AddLogging();
        both.AddLanes(static o => o.UsePreset("mspider"));
        both.AddOpenTelemetry().WithLanes();
        using var withLanes = both.BuildServiceProvider();
        var propagator = withLanes.GetRequiredService<LaneTextMapPropagator>();
        Assert.Same(withLanes.GetRequiredService<LanePropagator>(), propagator.Lanes);
        Assert.Contains("x-mspider-lane", propagator.Fields);
    }

    [Fact]
    public async Task WithLanes_WithoutAddLanes_FailsAtStart_SayingWhatToCall()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddOpenTelemetry().WithLanes();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("call services.AddLanes()", error.Message, StringComparison.Ordinal);
    }
}
