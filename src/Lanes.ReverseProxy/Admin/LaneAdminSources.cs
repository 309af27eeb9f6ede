namespace Lanes.ReverseProxy.Admin;

/// <summary>What the admin report reads besides routing and settings: observed lanes, traffic, destination failures, failover, service discovery's state, the clock.</summary>
internal sealed record LaneAdminSources(
    LaneObservedLanes Observed,
    LaneTrafficWindow Traffic,
    LaneDestinationFailures Failures,
    Lanes.ServiceDiscovery.LaneServiceEndpoints Discovery,
    TimeProvider Time,
    Failover.LaneGatewayFailover Failover);
