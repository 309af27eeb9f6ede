using System.Diagnostics.CodeAnalysis;
using Lanes.Configuration;
using Lanes.Diagnostics;
using Lanes.Parsing;
using Lanes.Resolution;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lanes;

/// <summary>
/// Injects the lane into, and extracts it from, any carrier: HTTP headers, Kafka or RabbitMQ message headers,
/// a dictionary. Shaped like OpenTelemetry's <c>TextMapPropagator</c> (<see cref="Fields"/>, <c>Inject</c>,
/// <c>Extract</c> with a setter and a getter), so one instance serves every transport.
/// </summary>
/// <remarks>
/// Registered as a singleton by <c>services.AddLanes()</c>; <see cref="Create"/> builds one without DI.
/// Neither method throws for bad input: an invalid lane is not injected, a garbage carrier extracts as no lane.
/// </remarks>
/// <example>
/// <code>
/// // Producer
/// propagator.Inject(message.Headers, static (headers, key, value) => headers[key] = value);
/// // Consumer
/// using (LaneContext.Begin(propagator.Extract(message.Headers,
///     static (headers, key) => headers.TryGetValue(key, out var v) ? [v] : null)))
/// {
///     await HandleAsync(message);
/// }
/// </code>
/// </example>
public sealed class LanePropagator
{
    private readonly LaneSettings _settings;
    private readonly LaneResolver _resolver;
    private readonly ILogger _logger;

    internal LanePropagator(LaneSettings settings, LaneResolver resolver, ILogger<LanePropagator> logger)
    {
        _settings = settings;
        _resolver = resolver;
        _logger = logger;
        Fields = settings.SourceHeaders;
    }

    /// <summary>The canonical header, which <c>Inject</c> writes.</summary>
    public string HeaderName => _settings.Header;

    /// <summary>Every field <c>Extract</c> reads: the canonical header, then the aliases.</summary>
    public IReadOnlyCollection<string> Fields { get; }

    /// <summary>Builds a propagator from options, without dependency injection.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message says what to change.</exception>
    public static LanePropagator Create(LaneOptions options, ILoggerFactory? loggerFactory = null)
    {
        var settings = LaneSettings.Create(options);
        loggerFactory ??= NullLoggerFactory.Instance;
        return new LanePropagator(
            settings,
            new LaneResolver(settings, loggerFactory.CreateLogger<LaneResolver>()),
            loggerFactory.CreateLogger<LanePropagator>());
    }

    /// <summary>Writes the current lane (<see cref="LaneContext.Current"/>) into <paramref name="carrier"/>; nothing when there is none.</summary>
    public void Inject<TCarrier>(TCarrier carrier, Action<TCarrier, string, string> setter)
        => Inject(LaneContext.Current, carrier, setter);

    /// <summary>Writes <paramref name="lane"/> into <paramref name="carrier"/> under the canonical header; nothing when it is null or invalid.</summary>
    public void Inject<TCarrier>(string? lane, TCarrier carrier, Action<TCarrier, string, string> setter)
    {
        ArgumentNullException.ThrowIfNull(setter);
        if (carrier is null || !CanInject(lane))
        {
            return;
        }

        setter(carrier, _settings.Header, lane);
    }

    /// <summary>
    /// The one outbound rule, shared by <c>Inject</c>, the HttpClient handler and the diagnostics hook: a lane is
    /// sent only when it is valid under this service's options (a <c>LaneContext.Begin</c> lane may be longer
    /// than <see cref="LaneOptions.MaxLength"/>); an invalid one is logged escaped at Debug and not sent.
    /// </summary>
    internal bool CanInject([NotNullWhen(true)] string? lane)
    {
        if (lane is null)
        {
            return false;
        }

        if (LaneParser.IsValidLane(lane, _settings.MaxLength))
        {
            return true;
        }

        if (_logger.IsEnabled(LogLevel.Debug))
        {
#pragma warning disable CA1873 // Guarded by the IsEnabled check above.
            LanesLog.InvalidLaneNotInjected(_logger, LaneParser.Escape(lane));
#pragma warning restore CA1873
        }

        return false;
    }

    /// <summary>
    /// Resolves the lane of <paramref name="carrier"/> exactly as the middleware resolves a request's:
    /// canonical header, aliases, default lane, with the configured policies. The getter returns the values
    /// of a field, or null; for HTTP-like carriers it should match names case-insensitively.
    /// </summary>
    public LaneResolution Extract<TCarrier>(TCarrier carrier, Func<TCarrier, string, IEnumerable<string>?> getter)
    {
        ArgumentNullException.ThrowIfNull(getter);
        var reader = new LaneResolver.GetterReader<TCarrier>(carrier, getter);
        return _resolver.Resolve(ref reader);
    }
}
