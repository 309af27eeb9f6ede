using System.Runtime.CompilerServices;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Lanes.OpenTelemetry;

/// <summary>
/// When the host is starting, makes OpenTelemetry's default propagator <see cref="LaneBaggageWriter"/> over the previous
/// one, so the lane runs after trace context and Lanes is the one writer of <c>baggage</c>; when the host has stopped,
/// puts the previous one back if nobody replaced it meanwhile. The default propagator is process-wide, as in
/// OpenTelemetry itself.
/// </summary>
internal sealed class LaneTextMapPropagatorInstaller(LaneTextMapPropagator lanes) : IHostedLifecycleService
{
    private TextMapPropagator? _previous;
    private TextMapPropagator? _installed;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (_installed is null)
        {
            // The SDK's static constructor sets the default (trace context + baggage); make sure it ran first.
            RuntimeHelpers.RunClassConstructor(typeof(Sdk).TypeHandle);
            _previous = Propagators.DefaultTextMapPropagator;
            _installed = new LaneBaggageWriter(_previous, lanes);
            Sdk.SetDefaultTextMapPropagator(_installed);
        }

        return Task.CompletedTask;
    }

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (_installed is not null && ReferenceEquals(Propagators.DefaultTextMapPropagator, _installed))
        {
            Sdk.SetDefaultTextMapPropagator(_previous!);
        }

        _installed = null;
        _previous = null;
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
