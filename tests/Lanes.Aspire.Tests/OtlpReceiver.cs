using System.Collections.Concurrent;
using Grpc.Core;
using Lanes.Aspire.Tests.Otlp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lanes.Aspire.Tests;

/// <summary>
/// An OTLP/gRPC trace receiver on 127.0.0.1 (HTTP/2 without TLS, as Aspire's dashboard takes it with unsecured transport
/// allowed): every span it is sent, with its service's name.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app, ConcurrentQueue<ReceivedSpan> spans)
    {
        _app = app;
        Spans = spans;
    }

    public ConcurrentQueue<ReceivedSpan> Spans { get; }

    public Uri Address => new(_app.Urls.Single());

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(static k => k.ConfigureEndpointDefaults(static l => l.Protocols = HttpProtocols.Http2));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var spans = new ConcurrentQueue<ReceivedSpan>();
        builder.Services.AddSingleton(spans);
        builder.Services.AddGrpc();
        var app = builder.Build();
        app.MapGrpcService<TraceReceiver>();
        await app.StartAsync();
        return new OtlpReceiver(app, spans);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    internal sealed record ReceivedSpan(string Service, string Name, int Kind, string TraceId, IReadOnlyDictionary<string, string> Attributes);

    private sealed class TraceReceiver(ConcurrentQueue<ReceivedSpan> spans) : TraceService.TraceServiceBase
    {
        public override Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request, ServerCallContext context)
        {
            foreach (var resource in request.ResourceSpans)
            {
                var service = resource.Resource?.Attributes.FirstOrDefault(static a => a.Key == "service.name")?.Value?.StringValue ?? string.Empty;
                foreach (var span in resource.ScopeSpans.SelectMany(static s => s.Spans))
                {
                    spans.Enqueue(new ReceivedSpan(
                        service,
                        span.Name,
                        span.Kind,
                        Convert.ToHexStringLower(span.TraceId.Span),
                        span.Attributes.GroupBy(static a => a.Key).ToDictionary(static g => g.Key, static g => Text(g.Last().Value))));
                }
            }

            return Task.FromResult(new ExportTraceServiceResponse());
        }

        private static string Text(AnyValue? value) => value?.ValueCase switch
        {
            AnyValue.ValueOneofCase.StringValue => value.StringValue,
            AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
            AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => string.Empty,
        };
    }
}
