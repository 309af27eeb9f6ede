using System.Net;
using System.Net.Sockets;

namespace Lanes.Testing;

internal static class ClosedPorts
{
    /// <summary>A loopback port nothing listens on (bound by the OS, then released): an instance that is down.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
