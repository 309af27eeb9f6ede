using System.Globalization;
using Lanes.EndToEnd.Tests.Samples;
using Lanes.Testing;

namespace Lanes.Aspire.Tests;

/// <summary>
/// <c>samples/AppHost</c> run as a user runs it (the dashboard on, every port picked free): SIGINT (Ctrl+C) or SIGTERM
/// stops it with exit code 0, and no process it started is left: DCP (which Aspire starts detached, watching the app
/// host's pid), the dashboard, every bookinfo instance and the gateway.
/// </summary>
[Collection("AppHost")]
public sealed class AppHostProcessTests
{
    /// <summary>Aspire stops its resources before it exits; DCP then stops itself once the app host's pid is gone.</summary>
    private static readonly TimeSpan StopWithin = TimeSpan.FromSeconds(60);

    /// <summary>An upper bound for a start on a loaded 2-core machine; the waits end as soon as the condition holds.</summary>
    private static readonly TimeSpan StartWithin = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData(SampleProcess.SigInt)]
    [InlineData(SampleProcess.SigTerm)]
    public async Task AppHost_StopsOnSignalWithExitZero_AndLeavesNoProcessBehind(int signal)
    {
        using var appHost = SampleProcess.Start("AppHost", new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = "http://127.0.0.1:0",
            ["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = "http://127.0.0.1:0",
            ["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true",
            ["DOTNET_ENVIRONMENT"] = "Development",
        }, "--GatewayPort", "0");
        // Aspire starts DCP and the dashboard before it prints this; under the whole suite on 2 cores that took longer than
        // the helper's default budget once (issue 42, item 6), so the wait has the same budget as the instances' start below.
        await appHost.WaitForOutputAsync("Distributed application started", StartWithin);

        // Everything it started: DCP's processes (they name the app host's pid) and every process below them. Waits
        // until the seven bookinfo instances and the gateway run.
        var started = await Wait.ForAsync(
            () => Task.FromResult(Descendants(appHost.Pid)),
            static set => set.Count(static p => p.Command.Contains("BookinfoService", StringComparison.Ordinal)) >= 7
                && set.Any(static p => p.Command.Contains("Gateway", StringComparison.Ordinal)),
            "DCP running the bookinfo instances and the gateway",
            StartWithin,
            static set => string.Join("\n", set.Select(static p => $"{p.Pid} {p.Command}")));

        appHost.Signal(signal);
        var exit = await appHost.WaitForExitAsync(StopWithin);
        Assert.True(exit is not null, $"still running {StopWithin.TotalSeconds} s after signal {signal}\n{appHost.Stdout}");
        Assert.Equal(0, exit.Value.ExitCode);

        await Wait.UntilAsync(
            () => started.All(static p => !IsAlive(p)),
            "every process the app host started gone",
            () => string.Join("\n", started.Where(IsAlive).Select(static p => $"{p.Pid} {p.Command}")),
            StopWithin);
    }

    private sealed record ProcessInfo(int Pid, string StartTime, string Command);

    /// <summary>The processes DCP runs for the app host <paramref name="appHost"/> (<c>dcp ... --monitor PID</c>) and all their descendants.</summary>
    private static List<ProcessInfo> Descendants(int appHost)
    {
        var all = Directory.GetDirectories("/proc").Select(static d => Path.GetFileName(d))
            .Where(static n => n.All(char.IsAsciiDigit)).Select(static n => int.Parse(n, CultureInfo.InvariantCulture))
            .Select(static pid => (Pid: pid, Stat: Read($"/proc/{pid}/stat"), Command: Read($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim()))
            .Where(static p => p.Stat.Length > 0)
            .ToList();
        var monitor = $"--monitor {appHost.ToString(CultureInfo.InvariantCulture)}";
        var roots = all.Where(p => p.Command.Contains(monitor, StringComparison.Ordinal)).ToList();
        var kubeconfigs = roots.Select(static p => p.Command.Split(' ').SkipWhile(static a => a != "--kubeconfig").Skip(1).FirstOrDefault())
            .Where(static k => k is not null).ToHashSet(StringComparer.Ordinal);
        var found = all.Where(p => roots.Contains(p) || kubeconfigs.Any(k => p.Command.Contains(k!, StringComparison.Ordinal))).Select(static p => p.Pid).ToHashSet();
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var p in all.Where(p => !found.Contains(p.Pid) && found.Contains(ParentOf(p.Stat))))
            {
                grew |= found.Add(p.Pid);
            }
        }

        return [.. all.Where(p => found.Contains(p.Pid)).Select(static p => new ProcessInfo(p.Pid, StartTimeOf(p.Stat), p.Command))];
    }

    /// <summary>Alive and the same process (its start time), not a later one that got the pid.</summary>
    private static bool IsAlive(ProcessInfo process)
        => Read($"/proc/{process.Pid}/stat") is { Length: > 0 } stat && StartTimeOf(stat) == process.StartTime && !stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');

    // /proc/PID/stat: "pid (comm) state ppid ... starttime(22nd field) ..."; comm may hold spaces, so split after ')'.
    private static int ParentOf(string stat) => int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);

    private static string StartTimeOf(string stat) => stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19];

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return string.Empty;
        }
        catch (UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }
}
