using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Lanes.Routing;
using Microsoft.Extensions.Primitives;

namespace Lanes.Grpc.Routing;

/// <summary>
/// Client-side lane balancing for gRPC (docs/behaviour.md, "Subset selection", "Client-side HTTP routing"): one subchannel per instance; whenever an instance's
/// connectivity changes, the subset engine is rebuilt with the ready instances as the healthy ones, and a new
/// picker chooses, per call, from the subset the call's ambient lane selects (the picker runs before any handler,
/// so it reads <see cref="LaneContext"/>, not a header), round robin within it.
/// </summary>
/// <remarks>
/// Until every instance has either connected or failed once, a call that would not be served by its own lane
/// waits (queues) instead of falling back, so start-up does not send lane traffic to the baseline. An instance
/// that drops later counts as unhealthy at once and the policy's fallback applies.
/// </remarks>
internal sealed class LaneGrpcLoadBalancer : LoadBalancer
{
    private readonly IChannelControlHelper _controller;
    private readonly string _service;
    private readonly LanePropagator _propagator;
    private readonly LaneTelemetry _telemetry;
    private readonly Lock _lock = new();
    private List<Entry> _entries = [];
    private bool _disposed;
    private readonly System.Diagnostics.Metrics.Counter<long> _shadowDropped;

    private LaneSubsetSettings _settings = LaneSubsetSettings.Default;

    public LaneGrpcLoadBalancer(IChannelControlHelper controller, string service, LanePropagator propagator, LaneTelemetry telemetry)
    {
        _controller = controller;
        _service = service;
        _propagator = propagator;
        _telemetry = telemetry;
        _shadowDropped = telemetry.Meter.CreateCounter<long>(LanesDiagnostics.ShadowDroppedInstrument, "{request}", LaneRoutingNames.ShadowDroppedDescription);
    }

    public override void UpdateChannelState(ChannelState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Status.StatusCode != StatusCode.OK || state.Addresses is null)
        {
            _controller.UpdateState(new BalancerState(ConnectivityState.TransientFailure, new FailurePicker(state.Status)));
            return;
        }

        var added = new List<Entry>();
        lock (_lock)
        {
            // The channel does not pass a resolver result's own attributes on, so every address carries the settings.
            if (state.Addresses.Count > 0 && state.Addresses[0].Attributes.TryGetValue(LaneGrpcResolverFactory.SettingsKey, out var settings))
            {
                _settings = settings;
            }

            var next = new List<Entry>(state.Addresses.Count);
            var current = _entries;
            foreach (var address in state.Addresses)
            {
                var lane = address.Attributes.TryGetValue(LaneGrpcResolverFactory.LaneKey, out var label) ? label : null;
                // An instance that stays keeps its connection, even when relabelled (its calls in flight finish there).
                var existing = current.Find(e => e.EndPoint.Equals(address.EndPoint));
                if (existing is not null)
                {
                    current.Remove(existing);
                    existing.Lane = lane;
                    next.Add(existing);
                    continue;
                }

                var entry = new Entry(_controller.CreateSubchannel(new SubchannelOptions([address])), address, lane);
                entry.Subscription = entry.Subchannel.OnStateChanged(s => OnSubchannelState(entry, s));
                next.Add(entry);
                added.Add(entry);
            }

            foreach (var removed in current)
            {
                removed.Subscription?.Dispose();
                removed.Subchannel.Dispose();
            }

            _entries = next;
        }

        foreach (var entry in added)
        {
            entry.Subchannel.RequestConnection();
        }

        Publish();
    }

    public override void RequestConnection()
    {
        foreach (var entry in Snapshot())
        {
            entry.Subchannel.RequestConnection();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            List<Entry> entries;
            lock (_lock)
            {
                _disposed = true;
                entries = _entries;
                _entries = [];
            }

            foreach (var entry in entries)
            {
                entry.Subscription?.Dispose();
                entry.Subchannel.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private void OnSubchannelState(Entry entry, SubchannelState state)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            entry.State = state.State;
            entry.Settled |= state.State is ConnectivityState.Ready or ConnectivityState.TransientFailure;
        }

        if (state.State == ConnectivityState.Idle)
        {
            // A dropped connection goes idle: reconnect, as round_robin does, so the instance can come back.
            entry.Subchannel.RequestConnection();
        }

        Publish();
    }

    private List<Entry> Snapshot()
    {
        lock (_lock)
        {
            return [.. _entries];
        }
    }

    private void Publish()
    {
        BalancerState balancerState;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            var instances = new LaneInstance<Subchannel>[_entries.Count];
            var anyReady = false;
            var unsettled = false;
            for (var i = 0; i < _entries.Count; i++)
            {
                var entry = _entries[i];
                var ready = entry.State == ConnectivityState.Ready;
                instances[i] = new LaneInstance<Subchannel>(entry.Subchannel, entry.Lane, ready);
                anyReady |= ready;
                unsettled |= !entry.Settled;
            }

            var subsets = _settings.CreateSubsets(instances);
            _telemetry.KeepMetricLanes("grpc:" + _service, subsets.Lanes);
            var state = anyReady ? ConnectivityState.Ready : unsettled ? ConnectivityState.Connecting : ConnectivityState.TransientFailure;
            balancerState = new BalancerState(state, new LanePicker(subsets, unsettled, _service, _propagator, _telemetry, _cursor, _shadowDropped));
        }

        _controller.UpdateState(balancerState);
    }

    /// <summary>
    /// The round-robin position, kept across pickers: every subchannel state change publishes a new picker, and a picker
    /// that started again at the first instance would send every retry of a call to an instance that keeps closing its
    /// connections (each close is a state change) instead of the next one of the lane.
    /// </summary>
    private readonly StrongBox<int> _cursor = new(-1);

    private sealed class Entry(Subchannel subchannel, BalancerAddress address, string? lane)
    {
        public Subchannel Subchannel { get; } = subchannel;

        public System.Net.DnsEndPoint EndPoint { get; } = address.EndPoint;

        public string? Lane { get; set; } = lane;

        public IDisposable? Subscription { get; set; }

        public ConnectivityState State { get; set; } = ConnectivityState.Idle;

        public bool Settled { get; set; }
    }

    private sealed class FailurePicker(Status status) : SubchannelPicker
    {
        public override PickResult Pick(PickContext context) => PickResult.ForFailure(status);
    }

    /// <summary>Picks per call from the subset of the call's lane, round robin; 503-equivalent <c>Unavailable</c> when the subset is empty.</summary>
    private sealed class LanePicker(
        LaneSubsets<Subchannel> subsets, bool unsettled, string service, LanePropagator propagator, LaneTelemetry telemetry, StrongBox<int> cursor,
        System.Diagnostics.Metrics.Counter<long> shadowDropped)
        : SubchannelPicker
    {
        public override PickResult Pick(PickContext context)
        {
            var callerSet = StringValues.Empty;
            if (context.Request is { } request && request.Headers.NonValidated.TryGetValues(propagator.HeaderName, out var values))
            {
                foreach (var value in values)
                {
                    callerSet = StringValues.Concat(callerSet, value);
                }
            }

            var lane = propagator.TryGetCallLane(callerSet, out var callLane) ? callLane : null;
            var choice = subsets.Select(lane);
            if (unsettled && choice.Outcome != LaneRoutingOutcome.Matched)
            {
                return PickResult.ForQueue();
            }

            if (context.Request is { } call && LaneRoutingNames.IsShadow(call.Headers) && LaneRoutingNames.RefusesShadow(lane, choice))
            {
                // A shadow copy is served by its lane's own instances only (docs/behaviour.md, "Shadow lanes").
                shadowDropped.Add(
                    1,
                    new KeyValuePair<string, object?>(LanesDiagnostics.RoutingServiceAttribute, service),
                    new KeyValuePair<string, object?>(LanesDiagnostics.LaneAttribute, telemetry.MetricLane(lane!)),
                    new KeyValuePair<string, object?>(LanesDiagnostics.ShadowReasonAttribute, LaneRoutingNames.ShadowNoInstance));
                return PickResult.ForFailure(new Status(StatusCode.Unavailable, LaneRoutingNames.NoHealthyUpstream + ": " + LaneRoutingNames.ShadowDetail(service, lane!)));
            }

            telemetry.Routed(service, lane, choice);
            var instance = choice.Next(ref cursor.Value);
            if (instance is null)
            {
                var detail = LaneRoutingNames.NoHealthyUpstream + ": " + LaneRoutingNames.NoHealthyUpstreamDetail(service, lane, choice, propagator.Settings);
                return PickResult.ForFailure(new Status(StatusCode.Unavailable, detail));
            }

            return PickResult.ForSubchannel(instance);
        }
    }
}
