using System.CommandLine;
using System.Reflection;
using Lanes.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lanes.Tool;

/// <summary>The <c>lanes</c> command line. Exit codes: 0 clean, 1 an error-level finding or an invalid configuration, 2 usage or unreadable input.</summary>
internal static class Cli
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var format = new Option<string>("--format") { Description = "text (default), json, or sarif (SARIF 2.1.0)", DefaultValueFactory = static _ => "text" };
        format.AcceptOnlyFromAmong("text", "json", "sarif");
        var paths = new Argument<string[]>("PATH") { Description = "files or folders of YAML manifests and Lanes JSON configuration", Arity = ArgumentArity.OneOrMore };
        var laneHeader = new Option<string[]>("--lane-header") { Description = "a header that carries lanes in this deployment, besides the presets' and those the WasmPlugin or a gateway sets (repeatable)" };
        var lint = new Command("lint", "Lint Istio and Kubernetes lane configuration.") { format, laneHeader, paths };
        lint.SetAction(result => Lint(result.GetValue(paths)!, result.GetValue(format)!, result.GetValue(laneHeader) ?? [], output, error));

        var config = new Option<string[]>("--config")
        {
            Description = "a JSON file with the Lanes section (appsettings.json); repeat it for the files a host layers (appsettings.json, then appsettings.Production.json): a later file wins, as in the host",
            Required = true,
        };
        var check = new Command("check", "Validate a Lanes configuration with the SDK's own validator.") { config };
        check.SetAction(result => Check(result.GetValue(config)!, output, error));

        var generateConfig = new Option<string>("--config") { Description = "a JSON file with the Lanes and Lanes:Services sections", Required = true };
        var ns = new Option<string?>("--namespace") { Description = "metadata.namespace of every object" };
        var labelKey = new Option<string>("--label-key") { Description = "the pod label a subset selects (default: lane)", DefaultValueFactory = static _ => "lane" };
        var gateway = new Option<string?>("--gateway") { Description = "also write a gateway VirtualService for this Istio Gateway (namespace/name)" };
        var entry = new Option<string?>("--entry") { Description = "the service the gateway routes to (required with --gateway when Lanes:Services lists several)" };
        var generate = new Command("generate", "Write DestinationRules and VirtualServices for the services under Lanes:Services.") { generateConfig, ns, labelKey, gateway, entry };
        generate.SetAction(result => Generate(result.GetValue(generateConfig)!, result.GetValue(ns), result.GetValue(labelKey)!, result.GetValue(gateway), result.GetValue(entry), output, error));
        var istio = new Command("istio", "Istio configuration from the Lanes configuration.") { generate };

        // Named "lanes" whatever the executable (the tool shim runs Lanes.Tool.dll): help and errors say the command users type.
        var version = new Option<bool>("--version") { Description = "Show the version of the lanes tool" };
        var root = new Command("lanes", "lanes: lint and generate lane configuration for Istio, check Lanes configuration.") { lint, check, istio, new System.CommandLine.Help.HelpOption(), version };
        root.SetAction(result =>
        {
            // This tool's own version (the entry assembly is another one when the command runs in process).
            if (result.GetValue(version))
            {
                output.WriteLine(typeof(Cli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);
                return 0;
            }

            error.WriteLine("lanes: a command is required (lint, check, istio generate). Run 'lanes --help' for usage.");
            return 2;
        });
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors)
            {
                error.WriteLine($"lanes: {e.Message}");
            }

            error.WriteLine("Run 'lanes --help' for usage.");
            return 2;
        }

        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    private static int Lint(string[] paths, string format, string[] laneHeaders, TextWriter output, TextWriter error)
    {
        var findings = new List<Finding>();
        var manifests = new List<Manifest>();
        var jsonHeaders = new List<string>();
        var jsonAliases = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var file in ManifestReader.Expand(paths))
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"lanes: cannot read '{file}': {e.Message}");
                return 2;
            }

            if (file.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                List<string> problems;
                try
                {
                    problems = Validate(file);
                }
                catch (InvalidDataException e)
                {
                    error.WriteLine($"lanes: '{file}' is not valid JSON: {Innermost(e)}");
                    return 2;
                }

                foreach (var problem in problems)
                {
                    var (line, column) = JsonPositions.Find(text, problem);
                    findings.Add(new Finding(Rules.InvalidLaneValue, file, line, column, problem));
                }

                foreach (var problem in UnknownKeys(file))
                {
                    var (line, column) = JsonPositions.Find(text, problem);
                    findings.Add(new Finding(Rules.UnknownField, file, line, column, problem));
                }

                if (problems.Count == 0)
                {
                    // The lane header this configuration propagates, and the aliases only its entry reads.
                    var settings = Load(file);
                    jsonHeaders.Add(settings.Header);
                    foreach (var alias in settings.Aliases)
                    {
                        jsonAliases[alias] = settings.Header;
                    }
                }

                continue;
            }

            manifests.AddRange(ManifestReader.Read(file, text, findings));
        }

        Linter.Lint(manifests, findings, [.. laneHeaders, .. jsonHeaders], jsonAliases);
        var ordered = findings.OrderBy(static f => f.File, StringComparer.Ordinal).ThenBy(static f => f.Line).ThenBy(static f => f.Column).ToList();
        Formats.Write(format, ordered, output);
        return ordered.Any(static f => f.Severity == Severity.Error) ? 1 : 0;
    }

    private static int Check(string[] files, TextWriter output, TextWriter error)
    {
        foreach (var file in files)
        {
            if (!File.Exists(file))
            {
                error.WriteLine($"lanes: cannot read '{file}'.");
                return 2;
            }
        }

        // What was read, and what a host may read besides (issue 42: a gateway took its header from a second file).
        var read = string.Join(" + ", files);
        List<string> problems;
        try
        {
            problems = Validate(files);
        }
        catch (InvalidDataException e)
        {
            error.WriteLine($"lanes: {read} is not valid JSON: {Innermost(e)}");
            return 2;
        }

        output.WriteLine($"read: {string.Join(", ", files)}{(files.Length > 1 ? " (in this order: a later file wins, as in a host)" : string.Empty)}");

        foreach (var problem in problems)
        {
            output.WriteLine($"{read}: {problem}");
        }

        var unknown = 0;
        foreach (var file in files)
        {
            foreach (var problem in UnknownKeys(file))
            {
                output.WriteLine($"{file}: {problem}");
                unknown++;
            }
        }

        if (problems.Count + unknown == 0)
        {
            var lanes = Load(files);
            output.WriteLine($"{read}: valid (header {lanes.Header}, default lane {lanes.DefaultLane ?? "(none)"}, {lanes.Services.Count} service(s), carriers {lanes.PropagatorsText})");
        }

        var unread = Siblings(files);
        output.WriteLine(
            "note: a host also layers appsettings.{Environment}.json, environment variables (Lanes__Header=...) and command-line arguments over these files; "
            + (unread.Count == 0
                ? "pass every file it reads with --config, in its order, to check what it runs with."
                : $"not read here: {string.Join(", ", unread)}. Pass each with another --config, in the host's order, to check what it runs with."));
        return problems.Count + unknown == 0 ? 0 : 1;
    }

    /// <summary>The appsettings.*.json files beside a given appsettings.json that were not given.</summary>
    private static List<string> Siblings(string[] files)
    {
        var given = files.Select(Path.GetFullPath).ToHashSet(StringComparer.Ordinal);
        return [.. files
            .Where(static f => string.Equals(Path.GetFileName(f), "appsettings.json", StringComparison.OrdinalIgnoreCase))
            .SelectMany(static f => Directory.GetFiles(Path.GetDirectoryName(Path.GetFullPath(f))!, "appsettings.*.json"))
            .Where(f => !given.Contains(Path.GetFullPath(f)))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .Select(static f => Path.GetRelativePath(Environment.CurrentDirectory, f))];
    }

    private static int Generate(string file, string? ns, string labelKey, string? gateway, string? entry, TextWriter output, TextWriter error)
    {
        if (!File.Exists(file))
        {
            error.WriteLine($"lanes: cannot read '{file}'.");
            return 2;
        }

        List<string> problems;
        try
        {
            problems = Validate(file);
        }
        catch (InvalidDataException e)
        {
            error.WriteLine($"lanes: '{file}' is not valid JSON: {Innermost(e)}");
            return 2;
        }

        problems.AddRange(UnknownKeys(file));
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                error.WriteLine($"{file}: {problem}");
            }

            return 1;
        }

        if (!Linter.IsLabelValue(labelKey.Split('/')[^1]) || labelKey.Length == 0)
        {
            error.WriteLine($"lanes: --label-key '{labelKey}' is not a label key.");
            return 2;
        }

        try
        {
            output.Write(Generator.Generate(Load(file), ns, labelKey, gateway, entry));
            return 0;
        }
        catch (InvalidOperationException e)
        {
            error.WriteLine($"lanes: {e.Message}");
            return 2;
        }
    }

    /// <summary>The parser's own words (with its line and byte position), not the wrappers' "failed to load".</summary>
    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e.Message;
    }

    /// <summary>The problems the SDK's own options validation reports for <paramref name="file"/>, each naming its key.</summary>
    internal static List<string> Validate(string file) => Validate([file]);

    /// <summary>The problems of <paramref name="files"/> layered in order (a later file wins), as a host reads them.</summary>
    internal static List<string> Validate(IReadOnlyList<string> files)
    {
        try
        {
            _ = Load(files);
            return [];
        }
        catch (OptionsValidationException e)
        {
            return [.. e.Failures];
        }
        catch (InvalidOperationException e) when (e.InnerException is not null)
        {
            return [$"{e.Message} {e.InnerException.Message}"];
        }
    }

    /// <summary>Keys no Lanes package reads (<see cref="LanesJsonKeys"/>), each naming its key.</summary>
    internal static List<string> UnknownKeys(string file)
        => LanesJsonKeys.Find(new ConfigurationBuilder().AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false).Build());

    /// <summary>The settings the SDK would run with: the file bound and validated exactly as <c>AddLanes()</c> does at start-up.</summary>
    private static LaneSettings Load(string file) => Load([file]);

    private static LaneSettings Load(IReadOnlyList<string> files)
    {
        IConfiguration configuration;
        try
        {
            var builder = new ConfigurationBuilder();
            foreach (var file in files)
            {
                builder.AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false);
            }

            configuration = builder.Build();
        }
        catch (FormatException e)
        {
            throw new InvalidDataException(e.InnerException?.Message ?? e.Message, e);
        }

        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddLogging();
        services.AddLanes();
        using var provider = services.BuildServiceProvider();
        _ = provider.GetRequiredService<IOptions<LaneOptions>>().Value;
        return provider.GetRequiredService<LanePropagator>().Settings;
    }
}
