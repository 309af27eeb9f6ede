namespace Lanes;

/// <summary>
/// The carriers a service reads the lane from and writes it to (<see cref="LaneOptions.Propagators"/>; docs/polyglot.md),
/// named as OpenTelemetry names its propagators in <c>OTEL_PROPAGATORS</c>.
/// </summary>
[Flags]
public enum LanePropagators
{
    /// <summary>No carrier.</summary>
    None = 0,

    /// <summary><c>header</c>: the canonical lane header (aliases are read at the entry). Always on.</summary>
    Header = 1,

    /// <summary><c>baggage</c>: one W3C <c>baggage</c> member <c>&lt;key&gt;=&lt;lane&gt;</c>, first.</summary>
    Baggage = 2,

    /// <summary><c>tracecontext</c>: one W3C <c>tracestate</c> list member <c>&lt;key&gt;=&lt;lane&gt;</c>, leftmost, the other members kept in order.</summary>
    TraceContext = 4,

    /// <summary><c>jaeger</c>: the Jaeger baggage header <c>uberctx-&lt;key&gt;</c> (value percent-encoded).</summary>
    Jaeger = 8,

    /// <summary><c>ottrace</c>: the OpenTracing baggage header <c>ot-baggage-&lt;key&gt;</c>, with the <c>ot-tracer-*</c> span context the OpenTracing propagator needs to read it.</summary>
    OtTrace = 16,
}
