using Lanes.Configuration;
using Lanes.Diagnostics;
using Lanes.Parsing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Lanes.Resolution;

/// <summary>
/// Resolves the lane of a request or message (DESIGN 3): first valid source wins, in this order:
/// 1) canonical header, 2) aliases in configured order, 3) <see cref="LaneOptions.DefaultLane"/>, 4) none.
/// Known-lane and invalid-value policies apply to each header source; <see cref="LaneOptions.RequireLane"/>
/// applies last.
/// </summary>
/// <remarks>
/// W3C baggage and the trace cache slot in between the aliases and the default as further steps of
/// <see cref="Resolve{TReader}"/>; each step returns "resolved", "rejected" or "go on".
/// </remarks>
internal sealed class LaneResolver
{
    private readonly LaneSettings _settings;
    private readonly ILogger _logger;

    public LaneResolver(LaneSettings settings, ILogger<LaneResolver> logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(logger);
        _settings = settings;
        _logger = logger;
    }

    public LaneSettings Settings => _settings;

    public LaneResolution Resolve<TReader>(ref TReader reader)
        where TReader : struct, ILaneValueReader
    {
        var settings = _settings;
        var headers = settings.SourceHeaders;
        for (var i = 0; i < headers.Length; i++)
        {
            var values = reader.GetValues(headers[i]);
            if (values.Count == 0)
            {
                continue;
            }

            var status = LaneParser.Parse(values, settings.MaxLength, out var lane);
            if (status == LaneParseStatus.Valid)
            {
                return Accept(lane!, i == 0 ? LaneSource.Header : LaneSource.Alias);
            }

            LanesLog.InvalidLaneValue(_logger, headers[i], status, settings.MaxLength, values);
            if (settings.InvalidLanePolicy == InvalidLanePolicy.Reject)
            {
                return Reject(LaneRejection.InvalidValue);
            }
        }

        return Fallback();
    }

    private LaneResolution Accept(string lane, LaneSource source)
    {
        var settings = _settings;
        if (settings.IsKnown(lane))
        {
            return new LaneResolution(lane, source);
        }

        switch (settings.UnknownLanePolicy)
        {
            case UnknownLanePolicy.Reject:
                LanesLog.UnknownLane(_logger, lane, "rejected");
                return Reject(LaneRejection.UnknownLane);
            case UnknownLanePolicy.UseDefault:
                LanesLog.UnknownLane(_logger, lane, "replaced by the default");
                return Fallback();
            default:
                return new LaneResolution(lane, source);
        }
    }

    private LaneResolution Fallback()
    {
        var settings = _settings;
        if (settings.DefaultLane is not null)
        {
            return new LaneResolution(settings.DefaultLane, LaneSource.Default);
        }

        return settings.RequireLane ? Reject(LaneRejection.Missing) : default;
    }

    private LaneResolution Reject(LaneRejection rejection)
    {
        LanesLog.LaneRejected(_logger, rejection);
        return new LaneResolution(null, LaneSource.None, rejection);
    }

    /// <summary>Reads a carrier through an OpenTelemetry-style getter.</summary>
    internal readonly struct GetterReader<TCarrier>(TCarrier carrier, Func<TCarrier, string, IEnumerable<string>?> getter) : ILaneValueReader
    {
        public StringValues GetValues(string name)
        {
            var values = carrier is null ? null : getter(carrier, name);
            switch (values)
            {
                case null:
                    return StringValues.Empty;
                case string[] array:
                    return new StringValues(array);
                case IReadOnlyList<string> { Count: 1 } list:
                    return new StringValues(list[0]);
                default:
                    var copy = new List<string>();
                    foreach (var value in values)
                    {
                        copy.Add(value);
                    }

                    return new StringValues(copy.ToArray());
            }
        }
    }
}
