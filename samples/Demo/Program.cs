// The one-command demo: a lane-aware YARP gateway and a scenario's services, all on loopback in this process.
//   dotnet run --project samples/Demo -- [--scenario mspider|hango|shadow] [--port N] [--once]
// Prints the example requests and the lane every hop saw. With --once it exits after printing (1 if any row
// differs from its expectation); otherwise it serves on 127.0.0.1:N (default 8080) until SIGINT (Ctrl+C) or
// SIGTERM, then stops every server and exits 0. Bad arguments and a busy port exit 2 with one line.
using System.Globalization;
using Bookinfo;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

const string Usage = """
    usage: dotnet run --project samples/Demo -- [--scenario mspider|hango|shadow] [--port N] [--once]
      --scenario NAME  the seed to run: mspider (default; DaoCloud bookinfo), hango (NetEase traffic colouring) or
                       shadow (baseline traffic mirrored into a yellow candidate, answers compared)
      --port N         the gateway's port on 127.0.0.1 (default 8080; 0 picks a free one)
      --once           print the table and exit: 0 when every row matches its expectation, 1 when one differs
                       (shadow: 0 when the candidate's changed field is found and the noise excluded, 1 otherwise)
      --help           this text
    """;

var scenarioName = "mspider";
var port = 8080;
var once = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--help" or "-h":
            Console.WriteLine(Usage);
            return 0;
        case "--scenario" when i + 1 < args.Length:
            scenarioName = args[++i];
            break;
        case "--port" when i + 1 < args.Length:
            if (!int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
            {
                return Fail($"--port takes a number from 0 to 65535, not '{args[i]}'.");
            }

            break;
        case "--once":
            once = true;
            break;
        case "--scenario" or "--port":
            return Fail($"{args[i]} needs a value.");
        default:
            return Fail($"unknown argument '{args[i]}'.");
    }
}

Scenario? scenario = null;
if (scenarioName != "shadow" && !Scenario.TryGet(scenarioName, out scenario))
{
    return Fail($"unknown scenario '{scenarioName}': use mspider, hango or shadow.");
}

// One owner of SIGINT and SIGTERM for the whole process: this host's console lifetime. The gateway and the services
// run with an embedded lifetime (no signal handlers of their own) and are stopped below.
var hostBuilder = Host.CreateApplicationBuilder();
hostBuilder.Logging.ClearProviders();
hostBuilder.Services.Configure<ConsoleLifetimeOptions>(static o => o.SuppressStatusMessages = true);
using var host = hostBuilder.Build();
await host.StartAsync();
var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;

if (scenario is null)
{
    return await RunShadowAsync(port, once, host, stopping);
}

BookinfoCluster cluster;
try
{
    cluster = await BookinfoCluster.StartAsync(scenario, port);
}
catch (IOException e) when (e.InnerException is AddressInUseException)
{
    return Fail($"port {port} on 127.0.0.1 is already in use: pass --port N for another port, or --port 0 for any free one.", usage: false);
}

var failures = 0;
await using (cluster)
{
    Console.WriteLine($"Lanes demo, scenario {scenario.Name}: gateway on {cluster.GatewayAddress} (header {scenario.Header})");
    Console.WriteLine($"Lane dashboard: {cluster.DashboardAddress} (tracer: POST {new Uri(cluster.GatewayAddress, "/lanes/trace")}; loopback only)");
    foreach (var (spec, _, address) in cluster.Instances)
    {
        Console.WriteLine($"  {spec.Id,-20} {spec.Service,-12} lane {spec.Lane ?? "(unlabelled)",-12} {address}");
    }

    Console.WriteLine();
    var results = await DemoRunner.RunAsync(cluster);
    Console.Write(DemoRunner.Format(scenario, results));
    Console.WriteLine();
    failures = results.Count(static r => !r.Matches);
    Console.WriteLine(failures == 0
        ? $"Every row matched its expectation ({results.Count} rows)."
        : $"{failures} row(s) differ from the expectation (see 'expected:' under each).");
    if (!once)
    {
        var example = scenario.Rows.SelectMany(static r => r.Headers).FirstOrDefault();
        var header = example.Key is null ? string.Empty : $"-H '{example.Key}: {example.Value}' ";
        Console.WriteLine($"Serving; try: curl {header}{cluster.GatewayAddress.ToString().TrimEnd('/')}{scenario.EntryPath}");
        Console.WriteLine("Stop with Ctrl+C or SIGTERM.");
        await host.WaitForShutdownAsync();
        Console.WriteLine("Stopping...");
        failures = 0;
    }
}

if (!stopping.IsCancellationRequested)
{
    await host.StopAsync();
}

if (!once)
{
    Console.WriteLine("Stopped.");
}

return failures == 0 ? 0 : 1;

// The shadow scenario: reviews traffic mirrored into a yellow candidate; prints what the comparison found.
static async Task<int> RunShadowAsync(int port, bool once, IHost host, CancellationToken stopping)
{
    ShadowDemo demo;
    try
    {
        demo = await ShadowDemo.StartAsync(port);
    }
    catch (IOException e) when (e.InnerException is AddressInUseException)
    {
        return Fail($"port {port} on 127.0.0.1 is already in use: pass --port N for another port, or --port 0 for any free one.", usage: false);
    }

    var found = false;
    await using (demo)
    {
        Console.WriteLine($"Lanes demo, scenario shadow: gateway on {demo.GatewayAddress} (header x-mspider-lane; rule Lanes:Shadow:reviews-v2, 100 % of green's reviews to yellow, with a secondary)");
        foreach (var (id, lane, address) in demo.Instances)
        {
            Console.WriteLine($"  {id,-20} reviews      lane {lane,-12} {address}");
        }

        Console.WriteLine();
        var result = await demo.RunAsync(stopping);
        Console.Write(ShadowDemo.Format(result));
        found = result.Found;
        Console.WriteLine(found
            ? "Found: yellow changes 'price'; 'at' differs between two green answers too, so it is noise and not reported."
            : "Not found: expected 'price' to differ and 'at' to be noise (see above).");
        if (!once)
        {
            Console.WriteLine($"Serving; try: curl {demo.GatewayAddress}reviews/1 and then curl {demo.GatewayAddress}lanes (the shadow[] section)");
            Console.WriteLine("Stop with Ctrl+C or SIGTERM.");
            await host.WaitForShutdownAsync(CancellationToken.None);
            Console.WriteLine("Stopping...");
            found = true;
        }
    }

    if (!stopping.IsCancellationRequested)
    {
        await host.StopAsync(CancellationToken.None);
    }

    if (!once)
    {
        Console.WriteLine("Stopped.");
    }

    return found ? 0 : 1;
}

static int Fail(string message, bool usage = true)
{
    Console.Error.WriteLine($"demo: {message}");
    if (usage)
    {
        Console.Error.WriteLine(Usage);
    }

    return 2;
}
