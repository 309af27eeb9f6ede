using System.Collections;

namespace Lanes.Diagnostics;

/// <summary>The logging scope of a request with a lane: <c>Lane</c> and <c>LaneSource</c>.</summary>
internal sealed class LaneLogScope(string lane, LaneSource source) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public const string LaneKey = "Lane";
    public const string LaneSourceKey = "LaneSource";

    public int Count => 2;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new(LaneKey, lane),
        1 => new(LaneSourceKey, LaneSourceNames.Get(source)),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
        yield return this[1];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"Lane:{lane} LaneSource:{LaneSourceNames.Get(source)}";
}
