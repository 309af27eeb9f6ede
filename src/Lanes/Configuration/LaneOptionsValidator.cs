using System.Globalization;
using Lanes.Parsing;
using Microsoft.Extensions.Options;

namespace Lanes.Configuration;

/// <summary>
/// Validates <see cref="LaneOptions"/> at start-up. Every message names the setting (as its
/// configuration key under <c>Lanes</c>) and says what to change.
/// </summary>
internal sealed class LaneOptionsValidator : IValidateOptions<LaneOptions>
{
    public ValidateOptionsResult Validate(string? name, LaneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = Collect(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static List<string> Collect(LaneOptions options)
    {
        var failures = new List<string>();
        var section = LaneOptions.SectionName;

        if (!LanePresetCatalog.TryGet(options.Preset, out var preset))
        {
            failures.Add($"{section}:Preset '{Show(options.Preset)}' is not a preset: use '{LanePresets.MSpider}', '{LanePresets.Nsf}', or leave it empty.");
        }

        if (options.MaxLength is < 1 or > LaneParser.AbsoluteMaxLength)
        {
            failures.Add($"{section}:MaxLength is {options.MaxLength.ToString(CultureInfo.InvariantCulture)}: use a value from 1 to {LaneParser.AbsoluteMaxLength.ToString(CultureInfo.InvariantCulture)} (default {LaneParser.DefaultMaxLength.ToString(CultureInfo.InvariantCulture)}).");
        }

        var maxLength = options.MaxLength is < 1 or > LaneParser.AbsoluteMaxLength ? LaneParser.DefaultMaxLength : options.MaxLength;
        Routing.LaneServiceDefinition.Validate(options.Services, maxLength, failures);

        if (!Enum.IsDefined(options.UnknownLanePolicy))
        {
            failures.Add($"{section}:UnknownLanePolicy must be Keep, UseDefault or Reject.");
        }

        if (!Enum.IsDefined(options.InvalidLanePolicy))
        {
            failures.Add($"{section}:InvalidLanePolicy must be Ignore or Reject.");
        }

        var header = LaneSettings.GetEffectiveHeader(options, preset);
        if (!IsToken(header))
        {
            failures.Add($"{section}:Header '{Show(header)}' is not a valid HTTP header name: use letters, digits and '-' (for example 'x-mspider-lane').");
        }

        var aliases = LaneSettings.GetEffectiveAliases(options, preset);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { header };
        for (var i = 0; i < aliases.Length; i++)
        {
            var alias = aliases[i];
            if (!IsToken(alias))
            {
                failures.Add($"{section}:Aliases:{i.ToString(CultureInfo.InvariantCulture)} '{Show(alias)}' is not a valid HTTP header name: use letters, digits and '-' (for example 'x-mspider-laneid').");
            }
            else if (!seen.Add(alias))
            {
                failures.Add($"{section}:Aliases:{i.ToString(CultureInfo.InvariantCulture)} '{Show(alias)}' repeats the canonical header or another alias: remove it.");
            }
        }

        var knownLanes = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.KnownLanes.Count; i++)
        {
            var lane = options.KnownLanes[i];
            if (!LaneParser.IsValidLane(lane, maxLength))
            {
                failures.Add($"{section}:KnownLanes:{i.ToString(CultureInfo.InvariantCulture)} '{Show(lane)}' is not a valid lane: {LaneRule(maxLength)}");
            }
            else
            {
                knownLanes.Add(lane!);
            }
        }

        var defaultLane = LaneSettings.GetEffectiveDefaultLane(options, preset);
        if (defaultLane is not null)
        {
            if (!LaneParser.IsValidLane(defaultLane, maxLength))
            {
                failures.Add($"{section}:DefaultLane '{Show(defaultLane)}' is not a valid lane: {LaneRule(maxLength)}");
            }
            else if (knownLanes.Count > 0 && !knownLanes.Contains(defaultLane))
            {
                failures.Add($"{section}:DefaultLane '{defaultLane}' is not in {section}:KnownLanes: add it there or change the default.");
            }
        }

        var carriers = LanePropagatorList.Parse(options, out _, failures);
        var keyed = carriers & ~LanePropagators.Header;
        if (keyed != LanePropagators.None && options.BaggageKey is not null && !IsToken(options.BaggageKey.Trim()))
        {
            failures.Add($"{section}:BaggageKey '{Show(options.BaggageKey)}' is not a valid baggage key: use letters, digits and '-' (for example 'x-mspider-lane'), or leave it empty to use the header name.");
        }

        if ((carriers & LanePropagators.TraceContext) != 0 && IsToken(header))
        {
            var key = LaneSettings.GetEffectiveBaggageKey(options, header!).ToLowerInvariant();
            if (!W3C.TraceState.IsValidKey(key))
            {
                failures.Add($"{section}:Propagators lists 'tracecontext' but the lane key '{Show(key)}' is not a W3C tracestate key (a lower-case letter, then up to 255 of a-z 0-9 _ - * /): set {section}:BaggageKey to one, for example 'lane'.");
            }
        }

        if (options.PassiveHealthPeriod < TimeSpan.FromSeconds(1) || options.PassiveHealthPeriod > TimeSpan.FromHours(1))
        {
            failures.Add($"{section}:PassiveHealthPeriod is {options.PassiveHealthPeriod.ToString("c", CultureInfo.InvariantCulture)}: use 00:00:01 to 01:00:00 (default 00:00:10).");
        }

        if (options.ServiceIdleTimeout < TimeSpan.FromSeconds(1) && options.ServiceIdleTimeout != Timeout.InfiniteTimeSpan)
        {
            failures.Add($"{section}:ServiceIdleTimeout is {options.ServiceIdleTimeout.ToString("c", CultureInfo.InvariantCulture)}: use at least 00:00:01, or -00:00:00.001 for never (default 00:10:00).");
        }

        if (options.TraceCacheSize is < 0 or > LaneOptions.MaxTraceCacheSize)
        {
            failures.Add($"{section}:TraceCacheSize is {options.TraceCacheSize.ToString(CultureInfo.InvariantCulture)}: use 0 (off) to {LaneOptions.MaxTraceCacheSize.ToString(CultureInfo.InvariantCulture)} (default {LaneOptions.DefaultTraceCacheSize.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (options.UnknownLanePolicy != UnknownLanePolicy.Keep && options.KnownLanes.Count == 0)
        {
            failures.Add($"{section}:UnknownLanePolicy is {options.UnknownLanePolicy} but {section}:KnownLanes is empty, so no lane is unknown: list the known lanes or set UnknownLanePolicy to Keep.");
        }

        return failures;
    }

    private static string LaneRule(int maxLength)
        => $"use {LaneParser.Rule(maxLength)} (for example 'yellow' or 'dev1').";

    private static bool IsToken(string? value) => value is not null && HttpToken.IsToken(value);

    private static string Show(string? value) => value is null ? "(null)" : LaneParser.Escape(value);
}
