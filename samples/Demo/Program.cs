// The one-command demo: a lane-aware YARP gateway and a scenario's services, all on loopback in this process.
//   dotnet run --project samples/Demo -- --scenario mspider|hango [--port N] [--once]
// Prints the example requests and the lane every hop saw. With --once it exits after printing (1 if any row
// differs from its expectation); otherwise it keeps serving on 127.0.0.1:N (default 8080) until Ctrl+C.
using System.Globalization;
using Bookinfo;

var scenarioName = "mspider";
var port = 8080;
var once = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--scenario" when i + 1 < args.Length:
            scenarioName = args[++i];
            break;
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed is >= 0 and <= 65535:
            port = parsed;
            i++;
            break;
        case "--once":
            once = true;
            break;
        default:
            await Console.Error.WriteLineAsync($"unknown argument '{args[i]}'. Usage: --scenario mspider|hango [--port N] [--once]");
            return 2;
    }
}

Scenario scenario;
try
{
    scenario = Scenario.Get(scenarioName);
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync(e.Message);
    return 2;
}

await using var cluster = await BookinfoCluster.StartAsync(scenario, port);
Console.WriteLine($"Lanes demo, scenario {scenario.Name}: gateway on {cluster.GatewayAddress} (header {scenario.Header})");
foreach (var (spec, _, address) in cluster.Instances)
{
    Console.WriteLine($"  {spec.Id,-20} {spec.Service,-12} lane {spec.Lane ?? "(unlabelled)",-12} {address}");
}

Console.WriteLine();
var results = await DemoRunner.RunAsync(cluster);
Console.Write(DemoRunner.Format(scenario, results));
Console.WriteLine();
var failures = results.Count(static r => !r.Matches);
Console.WriteLine(failures == 0 ? "Every row matched its expectation." : $"{failures} row(s) differ from the expectation.");
if (once)
{
    return failures == 0 ? 0 : 1;
}

var example = scenario.Rows[0].Headers[0];
Console.WriteLine($"Serving; try: curl -H '{example.Key}: {example.Value}' {cluster.GatewayAddress.ToString().TrimEnd('/')}{scenario.EntryPath}   (Ctrl+C to stop)");
var stopped = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stopped.TrySetResult();
};
await stopped.Task;
return failures == 0 ? 0 : 1;
