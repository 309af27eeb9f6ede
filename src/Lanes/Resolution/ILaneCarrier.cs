namespace Lanes.Resolution;

/// <summary>
/// A carrier an outgoing call's lane is written to: what <see cref="LanePropagator.InjectCall{TCarrier}(ref TCarrier, LaneCallOptions)"/>
/// needs from a transport (HttpClient requests, gRPC metadata, message headers). Implement it as a struct over the
/// carrier.
/// </summary>
public interface ILaneCarrier : ILaneValueReader
{
    /// <summary>
    /// Sets the field <paramref name="name"/>, which the carrier does not hold: <see cref="LanePropagator"/> removes a
    /// field it replaces first, so over HTTP headers this is a plain add (a setter that replaces is fine too).
    /// </summary>
    void SetValue(string name, string value);

    /// <summary>Removes the field <paramref name="name"/>; nothing when it is absent.</summary>
    void Remove(string name);
}
