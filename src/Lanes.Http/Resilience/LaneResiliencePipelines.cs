using System.Collections.Concurrent;

namespace Lanes.Http.Resilience;

/// <summary>
/// Keys a client's resilience pipeline by lane, so one lane's failures open a circuit breaker for that lane's traffic
/// only. Pass <see cref="ByLane"/> to the standard resilience handler's <c>SelectPipelineBy</c>:
/// <code>
/// builder.Services.ConfigureHttpClientDefaults(http =>
/// {
///     http.AddStandardResilienceHandler().SelectPipelineBy(LaneResiliencePipelines.ByLane);
///     http.AddServiceDiscovery();
/// });
/// </code>
/// Without it, a client has one pipeline: a yellow instance that fails often enough opens the breaker for every lane's
/// calls through that client, green's included.
/// </summary>
/// <remarks>
/// The key is the lane the request will carry (a canonical header the application set, else the ambient lane; docs/behaviour.md, "Propagation over HttpClient"),
/// or the empty string for none. Every distinct key is a pipeline kept for the life of the application, so the number
/// of keys is bounded: the first <see cref="MaxLanes"/> lanes a client sees get their own pipeline, later ones share
/// one (key <c>(other lanes)</c>). Lanes are validated before they get here, so a key is never raw input.
/// </remarks>
public static class LaneResiliencePipelines
{
    /// <summary>The most lanes one client keys a pipeline of its own for.</summary>
    public const int MaxLanes = 64;

    /// <summary>The key shared by the lanes beyond <see cref="MaxLanes"/>.</summary>
    public const string OtherLanesKey = "(other lanes)";

    /// <summary>The pipeline selector for <c>SelectPipelineBy</c>: the request's outbound lane, bounded (see the remarks).</summary>
    public static Func<HttpRequestMessage, string> ByLane(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var propagator = Microsoft.Extensions.DependencyInjection.LanesHttpExtensions.GetPropagator(services);
        var seen = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        return request =>
        {
            ArgumentNullException.ThrowIfNull(request);
            var carrier = new HttpRequestLaneCarrier(request.Headers);
            if (!propagator.TryGetCallLane(carrier.GetValues(propagator.HeaderName), out var lane))
            {
                return string.Empty;
            }

            if (seen.ContainsKey(lane))
            {
                return lane;
            }

            // A racing burst may admit a few more than MaxLanes; the bound only has to be finite.
            if (seen.Count < MaxLanes && seen.TryAdd(lane, 0))
            {
                return lane;
            }

            return seen.ContainsKey(lane) ? lane : OtherLanesKey;
        };
    }
}
