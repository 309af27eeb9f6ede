using Lanes.AspNetCore;
using Lanes.Resolution;
using Microsoft.Extensions.Logging;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the Lanes middleware to the request pipeline.</summary>
public static class LanesApplicationBuilderExtensions
{
    /// <summary>
    /// Resolves the lane of every request and keeps it in <c>LaneContext</c> for the rest of the pipeline.
    /// Put it early: before anything that logs, calls other services or starts background work. On a YARP gateway
    /// (<c>AddReverseProxy().AddLanes()</c>) the gateway's entry already does this job, before routing: a request it
    /// resolved is already being run by it (<c>LaneContext.InRequest</c>) and passes through here untouched (one resolution, counted once).
    /// </summary>
    /// <exception cref="InvalidOperationException"><c>services.AddLanes()</c> was not called.</exception>
    public static IApplicationBuilder UseLanes(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ApplicationServices.GetService(typeof(LaneResolver)) is not LaneResolver resolver)
        {
            throw new InvalidOperationException(
                "Unable to find the Lanes services. Call 'services.AddLanes()' (or 'builder.Services.AddLanes(...)') before 'app.UseLanes()'.");
        }

        if (app.ApplicationServices.GetService(typeof(ILoggerFactory)) is ILoggerFactory loggers
            && loggers.CreateLogger(typeof(LanesMiddleware).FullName!) is { } logger
            && logger.IsEnabled(LogLevel.Information))
        {
            var settings = resolver.Settings;
#pragma warning disable CA1873 // Guarded by the IsEnabled check above; once at start-up.
            LanesAspNetCoreLog.SettingsInForce(
                logger,
                settings.Header,
                settings.Aliases.IsEmpty ? "none" : string.Join(", ", settings.Aliases),
                settings.BaggageKey ?? "off",
                settings.DefaultLane is null ? "none" : $"'{settings.DefaultLane}'");
#pragma warning restore CA1873
        }

        return app.UseMiddleware<LanesMiddleware>();
    }
}
