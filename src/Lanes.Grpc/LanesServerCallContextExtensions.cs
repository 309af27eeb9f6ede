using Lanes;

namespace Grpc.Core;

/// <summary>The lane of a gRPC call on the server.</summary>
public static class LanesServerCallContextExtensions
{
    /// <summary>
    /// The lane <c>app.UseLanes()</c> resolved for this call (from its HTTP/2 headers), or <see langword="null"/>.
    /// The same value as <see cref="LaneContext.Current"/> inside the call, but read from the call itself, so it
    /// holds wherever the context is passed.
    /// </summary>
    public static string? GetLane(this ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var frame = context.GetHttpContext().Features.Get<LaneContext.Frame>();
        return frame is null ? LaneContext.Current : frame.Lane;
    }
}
