// One bookinfo instance (productpage, details, reviews or ratings) as its own process, started by samples/AppHost:
//   Bookinfo__Service=reviews Bookinfo__Lane=yellow dotnet run --project samples/BookinfoService
// It listens where ASPNETCORE_URLS says and reads its Lanes section and its Lanes:Services registry from configuration
// (the app host writes both as environment variables through Lanes.Aspire.Hosting). Stops on SIGINT / SIGTERM.
using Bookinfo;
using Microsoft.Extensions.Configuration;

var configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
var service = configuration["Bookinfo:Service"];
if (service is not ("productpage" or "details" or "reviews" or "ratings"))
{
    Console.Error.WriteLine("BookinfoService: set Bookinfo:Service to productpage, details, reviews or ratings (environment Bookinfo__Service).");
    return 2;
}

var lane = configuration["Bookinfo:Lane"] is { Length: > 0 } value ? value : null;
var app = BookinfoServices.BuildStandalone(new InstanceSpec(service, lane, configuration["Bookinfo:Id"] ?? service), args);
await app.RunAsync();
return 0;
