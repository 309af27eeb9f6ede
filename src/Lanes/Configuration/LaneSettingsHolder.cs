namespace Lanes.Configuration;

/// <summary>
/// The current <see cref="LaneSettings"/> snapshot, shared by every core component of one service provider (resolver,
/// propagator, metrics). Fixed for <see cref="LanePropagator.Create"/>; under DI it follows the options through
/// <see cref="ReloadingSnapshot{TOptions, TSnapshot}"/>, so a reload swaps one reference and hot paths never lock.
/// </summary>
internal sealed class LaneSettingsHolder
{
    private volatile LaneSettings _current;

    public LaneSettingsHolder(LaneSettings settings) => _current = settings;

    public LaneSettingsHolder(ReloadingSnapshot<LaneOptions, LaneSettings> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        _current = source.Current;
        source.Changed += s => _current = s;
    }

    public LaneSettings Current => _current;
}
