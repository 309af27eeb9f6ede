using Microsoft.Extensions.Hosting;

namespace Bookinfo;

/// <summary>
/// The lifetime of a host that another program owns (the demo, a test): no console messages and no signal handlers.
/// Every <c>WebApplication</c> otherwise installs <c>ConsoleLifetime</c>, which takes SIGTERM and SIGINT for itself and
/// only asks its own host to stop; with several hosts in one process nobody stops the process. The owner handles
/// signals once and stops every host.
/// </summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
