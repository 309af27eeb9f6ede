using Microsoft.Extensions.Primitives;

namespace Lanes.Configuration;

/// <summary>
/// The current <see cref="LaneSettings"/> snapshot, shared by every core component of one service provider (resolver,
/// propagator, metrics). Fixed for <see cref="LanePropagator.Create"/>; under DI it follows the options through
/// <see cref="ReloadingSnapshot{TOptions, TSnapshot}"/>, so a reload swaps one reference and hot paths never lock.
/// </summary>
internal sealed class LaneSettingsHolder : IDisposable
{
    private volatile LaneSettings _current;
    private CancellationTokenSource _changed = new();

    public LaneSettingsHolder(LaneSettings settings) => _current = settings;

    public LaneSettingsHolder(ReloadingSnapshot<LaneOptions, LaneSettings> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        _current = source.Current;
        source.Changed += Set;
    }

    public LaneSettings Current => _current;

    /// <summary>A token that fires when the next snapshot replaces the current one.</summary>
    public IChangeToken ChangeToken => new CancellationChangeToken(Volatile.Read(ref _changed).Token);

    public void Dispose() => Volatile.Read(ref _changed).Dispose();

    private void Set(LaneSettings settings)
    {
        _current = settings;
        // The replaced source is cancelled, not disposed: a reader may be between reading the field and taking its
        // token (disposing would make that reader throw); a source without a timer holds nothing to release.
        var previous = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
        previous.Cancel();
    }
}
