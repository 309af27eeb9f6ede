using Microsoft.Extensions.Http;

namespace Lanes.Http;

/// <summary>
/// Puts lane propagation inside every other handler of a client, whatever order the application registered them in
/// (only a <see cref="LaneAttemptHandler"/>, lane routing, stays inside it): a retry or hedging handler registered after Lanes (Aspire's ServiceDefaults
/// called after <c>AddLanes()</c>) would otherwise resend a message Lanes wrote once, and each attempt must go through the
/// outbound step (docs/behaviour.md, "Propagation over HttpClient").
/// </summary>
internal sealed class LanePropagationOrderFilter : IHttpMessageHandlerBuilderFilter
{
    public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next)
        => builder =>
        {
            next(builder);
            var handlers = builder.AdditionalHandlers;
            var index = -1;
            for (var i = 0; i < handlers.Count; i++)
            {
                if (handlers[i] is LanePropagationHandler)
                {
                    index = i;
                    break;
                }
            }

            if (index < 0)
            {
                return;
            }

            var propagation = handlers[index];
            handlers.RemoveAt(index);
            var routing = -1;
            for (var i = 0; i < handlers.Count; i++)
            {
                if (handlers[i] is LaneAttemptHandler)
                {
                    routing = i;
                    break;
                }
            }

            handlers.Insert(routing < 0 ? handlers.Count : routing, propagation);
        };
}
