using Lanes.Routing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Lanes.ReverseProxy.Failover;

/// <summary>
/// YARP passive health policy <c>LaneFailover</c> (docs/behaviour.md, "Failover"), set by Lanes on every lane-aware
/// cluster that configures no passive health of its own: called by YARP's <c>UsePassiveHealthChecks()</c> step after each
/// attempt. A refused connection ejects the destination at once; a 5xx answer, an attempt timeout or another transport
/// error counts towards <c>Lanes:Failover:ConsecutiveFailures</c>; any other answer starts the count again. A failure the
/// client caused (it went away, its body failed) counts neither way.
/// </summary>
internal sealed class LaneFailoverHealthPolicy(LaneGatewayFailover failover) : IPassiveHealthCheckPolicy
{
    public string Name => LaneGatewayFailover.PassivePolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        if (!failover.Settings.Enabled)
        {
            return;
        }

        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is null)
        {
            if (context.Response.StatusCode >= StatusCodes.Status500InternalServerError)
            {
                failover.Failed(cluster, destination, LaneAttemptFailure.Reset);
            }
            else
            {
                failover.Succeeded(destination);
            }

            return;
        }

        if (LaneGatewayFailover.IsDestinationFault(error.Error))
        {
            var failure = LaneGatewayFailover.Classify(error);
            failover.Failed(cluster, destination, failure == LaneAttemptFailure.None ? LaneAttemptFailure.Reset : failure);
        }
    }
}
