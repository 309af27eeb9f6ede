using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Lanes.Testing;

namespace Lanes.EndToEnd.Tests.Samples;

/// <summary>
/// A sample program (samples/Demo, Gateway, QuickStart) run as a child process from its build output, as a user runs
/// it: output read as it comes, POSIX signals sent with <c>kill(2)</c>, killed on dispose if still alive.
/// </summary>
internal sealed partial class SampleProcess : IDisposable
{
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigTerm = 15;

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _gate = new();

    private SampleProcess(Process process) => _process = process;

    public string Stdout
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Starts <c>dotnet &lt;sample&gt;.dll args</c> in the sample's output folder (so its appsettings.json is found).</summary>
    public static SampleProcess Start(string sample, params string[] args) => Start(sample, environment: null, args);

    /// <summary>As <see cref="Start(string, string[])"/>, with variables added to the child's environment (<c>KUBECONFIG</c>).</summary>
    public static SampleProcess Start(string sample, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var dll = typeof(SampleProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "Sample:" + sample).Value!;
        return StartDll(dll, environment, args);
    }

    /// <summary>Starts <c>dotnet &lt;dll&gt; args</c> in the dll's folder: a sample, or a test assembly's own entry point.</summary>
    public static SampleProcess StartDll(string dll, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        Assert.True(File.Exists(dll), $"{dll} is not built");
        var start = StartInfo("dotnet", dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        return Run(start, environment);
    }

    /// <summary>Starts <c>node &lt;script&gt;</c> in the script's folder (the polyglot tests' Node.js hops).</summary>
    public static SampleProcess StartNode(string script, IReadOnlyDictionary<string, string>? environment)
    {
        Assert.True(File.Exists(script), $"{script} is missing");
        return Run(StartInfo("node", script), environment);
    }

    /// <summary><c>program file</c> in the file's folder, its output redirected.</summary>
    private static ProcessStartInfo StartInfo(string program, string file)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = Path.GetDirectoryName(file)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(file);
        return start;
    }

    private static SampleProcess Run(ProcessStartInfo start, IReadOnlyDictionary<string, string>? environment)
    {
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var sampleProcess = new SampleProcess(new Process { StartInfo = start, EnableRaisingEvents = true });
        sampleProcess._process.OutputDataReceived += (_, e) => sampleProcess.Append(sampleProcess._stdout, e.Data);
        sampleProcess._process.ErrorDataReceived += (_, e) => sampleProcess.Append(sampleProcess._stderr, e.Data);
        sampleProcess._process.Start();
        sampleProcess._process.BeginOutputReadLine();
        sampleProcess._process.BeginErrorReadLine();
        return sampleProcess;
    }

    /// <summary>Waits until standard output has a match for <paramref name="pattern"/> and returns it; fails if the process ends first.</summary>
    public async Task<Match> WaitForOutputAsync(string pattern, TimeSpan? budget = null)
    {
        var regex = new Regex(pattern, RegexOptions.Multiline, TimeSpan.FromSeconds(1));
        var match = await Wait.ForAsync(
            () => Task.FromResult(_process.HasExited ? null : regex.Match(Stdout)),
            static m => m is null || m.Success,
            $"/{pattern}/ on standard output",
            budget,
            describe: _ => $"\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        if (match is null)
        {
            await _process.WaitForExitAsync();                 // drains the output
            match = regex.Match(Stdout);
            Assert.True(match.Success, $"exited ({_process.ExitCode}) before printing /{pattern}/\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        return match;
    }

    /// <summary>The process id.</summary>
    public int Pid => _process.Id;

    /// <summary>
    /// Sends a POSIX signal to the process. A child inherits ignored signals, and .NET keeps SIGINT ignored when it
    /// starts ignored (as a shell does for a command it runs in the background without job control): then no sample can
    /// stop on SIGINT, and the test says so instead of timing out.
    /// </summary>
    public void Signal(int signal)
    {
        Assert.False(signal == SigInt && IsIgnoredHere(SigInt),
            "SIGINT is ignored by this test process, so the sample inherits that and cannot stop on Ctrl+C: run the tests in the foreground, or from a shell with job control (set -m).");
        Assert.Equal(0, Kill(_process.Id, signal));
    }

    /// <summary>Whether this process ignores <paramref name="signal"/> (<c>SigIgn</c> of /proc/self/status).</summary>
    private static bool IsIgnoredHere(int signal)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(static l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null
            && ulong.TryParse(line["SigIgn:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var mask)
            && (mask & (1UL << (signal - 1))) != 0;
    }

    /// <summary>Waits for the exit and returns its code and how long it took; null when it did not exit in time.</summary>
    public async Task<(int ExitCode, TimeSpan Elapsed)?> WaitForExitAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        return (_process.ExitCode, clock.Elapsed);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process.Dispose();
    }

    private void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            text.Append(line).Append('\n');
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
