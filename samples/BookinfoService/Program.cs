// One bookinfo instance (productpage, details, reviews or ratings) as its own process, started by samples/AppHost:
//   Bookinfo__Service=reviews Bookinfo__Lane=yellow dotnet run --project samples/BookinfoService
// It listens where ASPNETCORE_URLS says and reads its Lanes section and its Lanes:Services registry from configuration
// (the app host writes both as environment variables through Lanes.Aspire.Hosting). Traces go to the OTLP endpoint
// the app host names (OTEL_EXPORTER_OTLP_ENDPOINT: the Aspire dashboard), each server span tagged with its lane.
// Stops on SIGINT / SIGTERM.
using Bookinfo;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

var configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
var service = configuration["Bookinfo:Service"];
if (service is not ("productpage" or "details" or "reviews" or "ratings"))
{
    Console.Error.WriteLine("BookinfoService: set Bookinfo:Service to productpage, details, reviews or ratings (environment Bookinfo__Service).");
    return 2;
}

var lane = configuration["Bookinfo:Lane"] is { Length: > 0 } value ? value : null;
var id = configuration["Bookinfo:Id"] ?? service;
var app = BookinfoServices.BuildStandalone(new InstanceSpec(service, lane, id), args, builder =>
{
    var telemetry = builder.Services.AddOpenTelemetry()
        .ConfigureResource(r => r.AddService(serviceName: builder.Configuration["OTEL_SERVICE_NAME"] ?? id))
        .WithTracing(static tracing => tracing.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation())
        .WithLanes();
    if (builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] is { Length: > 0 })
    {
        telemetry.UseOtlpExporter();
    }
});
await app.RunAsync();
return 0;
