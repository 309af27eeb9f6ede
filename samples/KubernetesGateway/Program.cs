// The Hango traffic-colouring seed on Kubernetes: a lane-aware YARP gateway whose instances, lanes and declared lanes
// come from the cluster, live.
//
//   KUBECONFIG=~/.kube/config dotnet run --project samples/KubernetesGateway -- [--port N] [--labels hango|mspider]
//
// GET /svc1 goes to Service svc1 in the kubeconfig context's namespace (or default), on its port named http (else its
// first port): Declared policy, declared lanes from the Service annotation nsf.skiff.netease.com/mark (dev1,dev2),
// instance lanes from the pod label of the same name, header x-nsf-mark. --labels mspider reads mspider.json instead:
// header x-mspider-lane (alias x-mspider-laneid), GET /productpage to Service productpage, pod label lane, default
// lane green. Stops on Ctrl+C or SIGTERM. Bad arguments and a busy port exit 2 with one line.
using System.Globalization;
using Microsoft.AspNetCore.Connections;

const string Usage = """
    usage: dotnet run --project samples/KubernetesGateway -- [--port N] [--labels hango|mspider]
      --port N           the gateway's port on 127.0.0.1 (default 8080; 0 picks a free one)
      --labels NAME      hango (default): nsf.skiff.netease.com/mark; mspider: x-mspider-lane and the pod label lane
    The cluster is the one the standard kubeconfig names (KUBECONFIG, else ~/.kube/config, else in-cluster).
    """;

var port = 8080;
var labels = "hango";
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--help" or "-h":
            Console.WriteLine(Usage);
            return 0;
        case "--port" when i + 1 < args.Length:
            if (!int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
            {
                return Fail($"--port takes a number from 0 to 65535, not '{args[i]}'.");
            }

            break;
        case "--labels" when i + 1 < args.Length:
            labels = args[++i];
            if (labels is not ("hango" or "mspider"))
            {
                return Fail($"unknown --labels '{labels}': use hango or mspider.");
            }

            break;
        case "--port" or "--labels":
            return Fail($"{args[i]} needs a value.");
        default:
            return Fail($"unknown argument '{args[i]}'.");
    }
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddJsonFile(Path.Combine(AppContext.BaseDirectory, labels + ".json"), optional: false, reloadOnChange: true);
builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
builder.Services.AddKubernetesServiceEndpoints();               // instances, lanes, declared lanes: from the cluster
builder.Services.AddReverseProxy()
    .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
    .AddLanes();                                                // destinations http://svc1 resolve through discovery

var app = builder.Build();

// The lanes admin report, page (/lanes/ui) and tracer, for loopback callers only.
app.MapLanesAdmin().AllowAnonymousOnLoopback();
app.MapReverseProxy(proxy =>
{
    proxy.UseLaneSubsets();
    proxy.UseLoadBalancing();
    proxy.UsePassiveHealthChecks();
});

try
{
    await app.StartAsync();
}
catch (IOException e) when (e.InnerException is AddressInUseException)
{
    return Fail($"port {port} on 127.0.0.1 is already in use: pass --port N for another port, or --port 0 for any free one.", usage: false);
}

Console.WriteLine($"Lanes Kubernetes gateway ({labels}) listening on {app.Urls.First()}; lane dashboard at {app.Urls.First()}/lanes/ui");
await app.WaitForShutdownAsync();
return 0;

static int Fail(string message, bool usage = true)
{
    Console.Error.WriteLine($"KubernetesGateway: {message}");
    if (usage)
    {
        Console.Error.WriteLine(Usage);
    }

    return 2;
}
