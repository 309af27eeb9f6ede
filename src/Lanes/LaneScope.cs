namespace Lanes;

/// <summary>
/// A lane scope started by <see cref="LaneContext.Begin(string?)"/>, handed out as <see cref="IDisposable"/> (as
/// <c>ILogger.BeginScope</c> does). Disposing it restores the lane that was current before it began; scopes nest.
/// </summary>
internal sealed class LaneScope : IDisposable
{
    private readonly LaneContext.Frame? _previous;
    private bool _disposed;

    internal LaneScope(LaneContext.Frame? previous) => _previous = previous;

    /// <summary>Restores the lane that was current when this scope began. Calling it twice does nothing.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        LaneContext.Restore(_previous);
    }
}
