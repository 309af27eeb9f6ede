using System.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace Lanes.Http;

/// <summary>
/// Installs <see cref="LaneDistributedContextPropagator"/> as <see cref="DistributedContextPropagator.Current"/>
/// when the host is starting (before any hosted service starts) and puts the previous one back when the host
/// has stopped, if nobody replaced it meanwhile.
/// </summary>
internal sealed class LanePropagatorInstaller(LanePropagator lanes) : IHostedLifecycleService
{
    private LaneDistributedContextPropagator? _installed;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (_installed is null)
        {
            _installed = new LaneDistributedContextPropagator(DistributedContextPropagator.Current, lanes);
            DistributedContextPropagator.Current = _installed;
        }

        return Task.CompletedTask;
    }

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (_installed is not null && ReferenceEquals(DistributedContextPropagator.Current, _installed))
        {
            DistributedContextPropagator.Current = _installed.Inner;
        }

        _installed = null;
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
