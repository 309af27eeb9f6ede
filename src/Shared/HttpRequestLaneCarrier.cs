using System.Net.Http.Headers;
using Lanes.Resolution;
using Microsoft.Extensions.Primitives;

namespace Lanes.Http;

/// <summary>
/// The headers of an outgoing <see cref="HttpRequestMessage"/> as a Lanes carrier, for
/// <see cref="LanePropagator.InjectCall{TCarrier}(ref TCarrier, LaneCallOptions)"/> (the HttpClient handler, the runtime
/// hook, the OpenTelemetry propagator and the gateway all write through it). Reads without validation, writes without
/// validation, never throws for odd values.
/// </summary>
internal readonly struct HttpRequestLaneCarrier : ILaneCarrier
{
    private readonly HttpRequestHeaders _headers;

    /// <summary>Reads and writes <paramref name="headers"/>.</summary>
    public HttpRequestLaneCarrier(HttpRequestHeaders headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        _headers = headers;
    }

    /// <inheritdoc/>
    public StringValues GetValues(string name)
    {
        if (!_headers.NonValidated.TryGetValues(name, out var values))
        {
            return StringValues.Empty;
        }

        if (values.Count == 1)
        {
            foreach (var value in values)
            {
                return value;
            }
        }

        var array = new string[values.Count];
        var i = 0;
        foreach (var value in values)
        {
            array[i++] = value;
        }

        return array;
    }

    /// <inheritdoc/>
    public void SetValue(string name, string value) => _headers.TryAddWithoutValidation(name, value);

    /// <inheritdoc/>
    public void Remove(string name) => _headers.Remove(name);
}
