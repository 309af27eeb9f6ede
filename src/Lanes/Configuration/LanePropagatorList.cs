namespace Lanes.Configuration;

/// <summary>
/// Parses <see cref="LaneOptions.Propagators"/> (docs/polyglot.md): names as in <c>OTEL_PROPAGATORS</c>, comma-separated,
/// case-insensitive, in the order the carriers are read. The one place that knows the names.
/// </summary>
internal static class LanePropagatorList
{
    /// <summary>The names, in the order of <see cref="LanePropagators"/>.</summary>
    public static readonly (string Name, LanePropagators Value)[] Names =
    [
        ("header", LanePropagators.Header),
        ("baggage", LanePropagators.Baggage),
        ("tracecontext", LanePropagators.TraceContext),
        ("jaeger", LanePropagators.Jaeger),
        ("ottrace", LanePropagators.OtTrace),
    ];

    /// <summary>
    /// The carriers named by <paramref name="options"/>, and the order the keyed ones (everything but <c>header</c>) are read in.
    /// Adds a message per problem to <paramref name="failures"/> (when given) and answers the default for what it cannot read.
    /// </summary>
    public static LanePropagators Parse(LaneOptions options, out LanePropagators[] order, List<string>? failures)
    {
        var section = LaneOptions.SectionName;
        if (string.IsNullOrWhiteSpace(options.Propagators))
        {
            order = options.EnableBaggage ? [LanePropagators.Baggage] : [];
            return options.EnableBaggage ? LanePropagators.Header | LanePropagators.Baggage : LanePropagators.Header;
        }

        var set = LanePropagators.None;
        var keyed = new List<LanePropagators>(4);
        foreach (var part in options.Propagators.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var value = Find(part);
            if (value == LanePropagators.None)
            {
                failures?.Add($"{section}:Propagators names '{Show(part)}', which is not a lane carrier: use header, baggage, tracecontext, jaeger or ottrace, comma-separated.");
                continue;
            }

            if ((set & value) != 0)
            {
                failures?.Add($"{section}:Propagators lists '{Name(value)}' twice: list each carrier once.");
                continue;
            }

            set |= value;
            if (value != LanePropagators.Header)
            {
                keyed.Add(value);
            }
        }

        if ((set & LanePropagators.Header) == 0)
        {
            failures?.Add($"{section}:Propagators has no 'header': the canonical header is what routing reads at every hop, so it is always a carrier; add it.");
            set |= LanePropagators.Header;
        }

        if ((set & LanePropagators.Baggage) != 0 && !options.EnableBaggage)
        {
            failures?.Add($"{section}:Propagators lists 'baggage' but {section}:EnableBaggage is false: remove one of the two.");
        }

        order = [.. keyed];
        return set;
    }

    /// <summary>The configuration name of one carrier (<c>tracecontext</c>).</summary>
    public static string Name(LanePropagators value)
    {
        foreach (var (name, v) in Names)
        {
            if (v == value)
            {
                return name;
            }
        }

        return "none";
    }

    /// <summary>The configured carriers as a configuration value, in reading order: <c>header, baggage, jaeger</c>.</summary>
    public static string Format(LanePropagators[] order)
    {
        var names = new string[order.Length + 1];
        names[0] = "header";
        for (var i = 0; i < order.Length; i++)
        {
            names[i + 1] = Name(order[i]);
        }

        return string.Join(", ", names);
    }

    private static LanePropagators Find(string name)
    {
        foreach (var (n, v) in Names)
        {
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
            {
                return v;
            }
        }

        return LanePropagators.None;
    }

    private static string Show(string value) => Parsing.LaneParser.Escape(value);
}
