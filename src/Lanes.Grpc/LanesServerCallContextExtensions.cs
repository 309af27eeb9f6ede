using Lanes;

namespace Grpc.Core;

/// <summary>The lane of a gRPC call on the server.</summary>
public static class LanesServerCallContextExtensions
{
    /// <summary>
    /// The lane <c>app.UseLanes()</c> resolved for this call (from its HTTP/2 headers), or <see langword="null"/>:
    /// <see cref="LaneContext.Current"/> as the service method sees it, for code that prefers to ask the call.
    /// </summary>
    public static string? GetLane(this ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return LaneContext.Current;
    }
}
