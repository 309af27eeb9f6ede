using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Lanes.ReverseProxy;

/// <summary>
/// Puts <see cref="LaneGatewayMiddleware"/> first in the application pipeline, ahead of the routing middleware that
/// <c>WebApplication</c> adds, because YARP matches routes before any of its transforms run (DESIGN 7, step 2).
/// </summary>
internal sealed class LaneGatewayStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return app =>
        {
            app.UseMiddleware<LaneGatewayMiddleware>();
            next(app);
        };
    }
}
