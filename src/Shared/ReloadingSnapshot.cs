using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Lanes.Configuration;

/// <summary>
/// Follows an options type as <see cref="IOptionsMonitor{TOptions}"/> does (every <c>Configure&lt;T&gt;()</c>, every
/// bound configuration section, every change token source) and turns each new value into an immutable snapshot
/// that hot paths read without locks. Unlike <see cref="IOptionsMonitor{TOptions}"/>, an edit that does not bind,
/// validate or build is refused: it is logged as an error naming what to change, and the last good snapshot stays.
/// </summary>
/// <remarks>
/// The first snapshot is built in the constructor and an invalid one throws there, so a bad start-up configuration
/// stops the host. Reloads run on the change token's thread; nothing thrown there escapes.
/// </remarks>
/// <typeparam name="TOptions">The options type (for example <see cref="LaneOptions"/>).</typeparam>
/// <typeparam name="TSnapshot">The immutable snapshot built from it (for example <see cref="LaneSettings"/>).</typeparam>
internal sealed class ReloadingSnapshot<TOptions, TSnapshot> : IDisposable
    where TOptions : class
    where TSnapshot : class
{
    private readonly IOptionsFactory<TOptions> _factory;
    private readonly Func<TOptions, TSnapshot> _build;
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly List<IDisposable> _subscriptions = [];
    private volatile TSnapshot _current;

    /// <summary>Builds the first snapshot (throwing when it is invalid) and subscribes to every change token source.</summary>
    /// <param name="factory">The options factory (binding, <c>Configure</c>, <c>PostConfigure</c>, validation).</param>
    /// <param name="sources">Where changes come from (a bound configuration section registers one).</param>
    /// <param name="build">Builds the snapshot; throws <see cref="ArgumentException"/> with a message naming the key when the value is invalid.</param>
    /// <param name="logger">Receives the reload and refusal events.</param>
    /// <param name="name">A name for log messages, for example <c>Lanes</c>.</param>
    public ReloadingSnapshot(
        IOptionsFactory<TOptions> factory,
        IEnumerable<IOptionsChangeTokenSource<TOptions>> sources,
        Func<TOptions, TSnapshot> build,
        ILogger logger,
        string name)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(build);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentException.ThrowIfNullOrEmpty(name);
        _factory = factory;
        _build = build;
        _logger = logger;
        _name = name;
        _current = build(factory.Create(Options.DefaultName));
        foreach (var source in sources)
        {
            if (source.Name is null || source.Name == Options.DefaultName)
            {
                _subscriptions.Add(ChangeToken.OnChange(source.GetChangeToken, () => Reload()));
            }
        }
    }

    /// <summary>The last good snapshot. One volatile read; never null.</summary>
    public TSnapshot Current => _current;

    /// <summary>Raised after a new snapshot replaced the previous one (not for a refused edit).</summary>
    public event Action<TSnapshot>? Changed;

    /// <summary>Stops following changes.</summary>
    public void Dispose()
    {
        foreach (var subscription in _subscriptions)
        {
            subscription.Dispose();
        }

        _subscriptions.Clear();
    }

    /// <summary>Builds a snapshot from the options as they are now; keeps the current one when that fails.</summary>
    /// <returns>True when the new snapshot was taken.</returns>
    public bool Reload()
    {
        TSnapshot next;
        try
        {
            next = _build(_factory.Create(Options.DefaultName));
        }
        catch (Exception ex) when (ex is OptionsValidationException or ArgumentException or InvalidOperationException or FormatException)
        {
            // OptionsValidationException and ArgumentException carry the validators' messages, each naming its key;
            // the binder throws InvalidOperationException or FormatException naming the key it could not convert.
            ReloadingSnapshotLog.Refused(_logger, _name, ex.Message);
            return false;
        }

        _current = next;
        ReloadingSnapshotLog.Reloaded(_logger, _name);
        Changed?.Invoke(next);
        return true;
    }
}

/// <summary>Log events of <see cref="ReloadingSnapshot{TOptions, TSnapshot}"/>.</summary>
internal static partial class ReloadingSnapshotLog
{
    [LoggerMessage(EventId = 20, EventName = "SettingsReloaded", Level = LogLevel.Information, Message = "{Name} settings reloaded.")]
    public static partial void Reloaded(ILogger logger, string name);

    [LoggerMessage(EventId = 21, EventName = "SettingsReloadRefused", Level = LogLevel.Error,
        Message = "{Name} settings reload refused, the last good settings stay: {Reason}")]
    public static partial void Refused(ILogger logger, string name, string reason);
}
