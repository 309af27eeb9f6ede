namespace Lanes.ReverseProxy.Admin;

/// <summary>What the admin report reads besides routing and settings: observed lanes, traffic, destination failures, the clock.</summary>
internal sealed record LaneAdminSources(LaneObservedLanes Observed, LaneTrafficWindow Traffic, LaneDestinationFailures Failures, TimeProvider Time);
