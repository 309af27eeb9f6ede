namespace Lanes;

/// <summary>Where the current lane came from (docs/behaviour.md, "Resolution"). Reported as the <c>lane.source</c> tag.</summary>
public enum LaneSource
{
    /// <summary>No lane.</summary>
    None = 0,

    /// <summary>The canonical header (for example <c>x-mspider-lane</c>).</summary>
    Header,

    /// <summary>One of the configured alias headers (for example <c>x-mspider-laneid</c>).</summary>
    Alias,

    /// <summary>The configured <see cref="LaneOptions.DefaultLane"/>.</summary>
    Default,

    /// <summary>An explicit <see cref="LaneContext.Begin(string?)"/> scope in application code.</summary>
    Scope,

    /// <summary>The lane member of the W3C <c>baggage</c> header (key <see cref="LaneOptions.BaggageKey"/>).</summary>
    Baggage,

    /// <summary>The trace cache: the lane seen earlier in this process for the same W3C trace id.</summary>
    TraceCache,

    /// <summary>A colouring rule of the gateway (the entry), which assigned the lane.</summary>
    Colouring,

    /// <summary>The lane member of the W3C <c>tracestate</c> header (carrier <c>tracecontext</c>, docs/polyglot.md).</summary>
    TraceState,

    /// <summary>The Jaeger baggage header <c>uberctx-&lt;key&gt;</c> (carrier <c>jaeger</c>).</summary>
    Jaeger,

    /// <summary>The OpenTracing baggage header <c>ot-baggage-&lt;key&gt;</c> (carrier <c>ottrace</c>).</summary>
    OtTrace,
}
