using System.Text;
using Lanes.Resolution;
using Microsoft.Extensions.Primitives;
using RabbitMQ.Client;

namespace Lanes.RabbitMQ;

/// <summary>
/// The lane in a RabbitMQ message's headers (docs/behaviour.md, "Messages"), behind <see cref="LaneChannelExtensions"/>. <see cref="Inject"/> writes the canonical lane header and the
/// <c>baggage</c> member through <see cref="LanePropagator.InjectCall{TCarrier}(ref TCarrier, LaneCallOptions)"/>, the
/// pipeline every Lanes transport uses: a publish inside a lane's request or scope carries that lane; a publish outside
/// any carries nothing. <see cref="Extract(LanePropagator, IReadOnlyBasicProperties)"/> resolves a delivered message's lane exactly as a request's (header,
/// aliases, baggage, trace cache, default lane, with the configured policies), treating every header as untrusted.
/// </summary>
/// <remarks>
/// Header values arrive as bytes (AMQP long strings): each header Lanes reads is decoded once, as UTF-8 that replaces
/// invalid sequences rather than throwing, and then validated like any lane value (a replacement character is not a
/// lane character, so garbage is an invalid value: counted, logged escaped, treated as absent). A header of another AMQP
/// type (a number, a table, a timestamp) is not a lane and is treated as absent. Nothing here throws on a message's content.
/// </remarks>
internal static class LaneMessageHeaders
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>
    /// Writes the current lane (and the <c>baggage</c> member) into <paramref name="properties"/>'s headers, creating
    /// them when needed; a lane header the application set itself is kept. Returns the lane the message carries, or
    /// <see langword="null"/>.
    /// </summary>
    internal static string? Inject(LanePropagator propagator, IBasicProperties properties)
    {
        ArgumentNullException.ThrowIfNull(propagator);
        ArgumentNullException.ThrowIfNull(properties);
        var carrier = new MessageHeadersCarrier(properties);
        return propagator.InjectCall(ref carrier, new LaneCallOptions { ExcludeActivityBaggage = true });
    }

    /// <summary>Resolves (and counts, on the <c>Lanes</c> meter) the lane of a delivered message from its headers.</summary>
    internal static LaneResolution Extract(LanePropagator propagator, IReadOnlyBasicProperties properties)
    {
        ArgumentNullException.ThrowIfNull(propagator);
        ArgumentNullException.ThrowIfNull(properties);
        return Extract(propagator, new DecodedHeaders(properties.Headers));
    }

    internal static LaneResolution Extract(LanePropagator propagator, DecodedHeaders headers)
        => propagator.Extract(headers, static (h, name) => h.GetArray(name));

    /// <summary>
    /// Decodes one header value as text: a byte array (what RabbitMQ delivers) as UTF-8 with invalid sequences replaced,
    /// a string as it is. False for every other AMQP type, and for null.
    /// </summary>
    internal static bool TryDecode(object? value, out string? text)
    {
        switch (value)
        {
            case byte[] bytes:
                text = Utf8.GetString(bytes);
                return true;
            case ReadOnlyMemory<byte> memory:
                text = Utf8.GetString(memory.Span);
                return true;
            case string s:
                text = s;
                return true;
            default:
                text = null;
                return false;
        }
    }

    /// <summary>An <see cref="ILaneCarrier"/> over a message's headers (created on the first write).</summary>
    private readonly struct MessageHeadersCarrier(IBasicProperties properties) : ILaneCarrier
    {
        public StringValues GetValues(string name)
            => properties.Headers is { } headers && headers.TryGetValue(name, out var value) && TryDecode(value, out var text) && text is not null
                ? new StringValues(text)
                : StringValues.Empty;

        public void SetValue(string name, string value) => (properties.Headers ??= new Dictionary<string, object?>(StringComparer.Ordinal))[name] = value;

        public void Remove(string name) => properties.Headers?.Remove(name);
    }
}
