using System.Diagnostics.Metrics;
using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.AspNetCore.Tests;

public sealed class LaneTelemetryMeterTests
{
    [Fact]
    public void TelemetryMeter_IsEachApplicationsOwn_CreatedByItsMeterFactory_AndCarriesItsRoutingDecisions()
    {
        using var first = new ServiceCollection().AddMetrics().AddLogging().AddLanes().Services.BuildServiceProvider();
        using var second = new ServiceCollection().AddMetrics().AddLogging().AddLanes().Services.BuildServiceProvider();
        using var noFactory = new ServiceCollection().AddLogging().AddLanes().Services.BuildServiceProvider();
        var telemetry = first.GetRequiredService<Lanes.Routing.LaneTelemetry>();
        using var recorder = new MeasurementRecorder(telemetry.Meter);

        second.GetRequiredService<Lanes.Routing.LaneTelemetry>().Routed("svc", "yellow", Choice());
        telemetry.Routed("svc", "yellow", Choice());

        Assert.Equal(LanesDiagnostics.MeterName, telemetry.Meter.Name);
        Assert.Same(first.GetRequiredService<IMeterFactory>(), telemetry.Meter.Scope);
        Assert.NotSame(telemetry.Meter, second.GetRequiredService<Lanes.Routing.LaneTelemetry>().Meter);
        Assert.Equal(LanesDiagnostics.MeterName, noFactory.GetRequiredService<Lanes.Routing.LaneTelemetry>().Meter.Name);
        Assert.Single(recorder.Of(LanesDiagnostics.RoutedInstrument));             // its own decision, not the other's

        static Lanes.Routing.LaneChoice<string> Choice()
            => new Lanes.Routing.LaneSubsetSettings(Lanes.Routing.LanePolicy.Permissive, null, null, false).CreateSubsets<string>([new("a", "yellow", healthy: true)]).Select("yellow");
    }
}
