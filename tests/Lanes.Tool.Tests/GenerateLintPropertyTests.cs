using System.Globalization;
using System.Text.Json.Nodes;
using Lanes.Configuration;
using Microsoft.Extensions.Configuration;

namespace Lanes.Tool.Tests;

/// <summary>
/// Issue 42, item 2: what <c>lanes istio generate --gateway</c> writes, <c>lanes lint</c> accepts, for any valid Lanes
/// configuration. The issue's case (a lane only a downstream service has or declares) first, then random valid
/// configurations (services, policies, declared lanes, baselines, presets and aliases, the entry), each generated and
/// linted: no error, and every lane of the configuration is one the gateway sets, so it reaches the hops behind.
/// </summary>
public sealed class GenerateLintPropertyTests
{
    [Fact]
    public void ALaneOnlyADownstreamServiceHas_IsSetByTheGateway_AndTheOutputLintsClean()
    {
        // orders (the entry: green only), payments Strict with blue, canary, hotfix, ratings with a yellow instance.
        var config = new JsonObject
        {
            ["Lanes"] = new JsonObject
            {
                ["Preset"] = "mspider",
                ["Services"] = new JsonObject
                {
                    ["orders"] = Service(null, null, ("orders-green", "green")),
                    ["payments"] = Service("Strict", "blue,canary,hotfix", ("payments-green", "green"), ("payments-hotfix", "hotfix")),
                    ["ratings"] = Service(null, null, ("ratings-green", "green"), ("ratings-yellow", "yellow")),
                },
            },
        };

        var (yaml, findings) = GenerateAndLint(config, "orders");

        Assert.Empty(findings);
        foreach (var lane in new[] { "blue", "canary", "hotfix", "yellow" })
        {
            Assert.Contains($"- name: {lane}\n      match:\n        - headers:\n            x-mspider-lane:\n              exact: {lane}", yaml, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void RandomValidConfigurations_GenerateWhatLintAccepts_AndTheGatewaySetsEveryLane()
    {
        var random = new Random(42);                        // fixed: a failure names its configuration and reproduces
        var tested = 0;
        for (var attempt = 0; attempt < 400 && tested < 150; attempt++)
        {
            var config = RandomConfiguration(random, out var entry);
            LaneSettings settings;
            try
            {
                settings = LaneSettings.Create(Bind(config));
            }
            catch (ArgumentException)
            {
                continue;                                  // not a valid configuration: lanes check would refuse it
            }

            tested++;
            var (yaml, findings) = GenerateAndLint(config, entry);
            var errors = findings.Where(static f => (string?)f["severity"] == "error").ToList();
            Assert.True(errors.Count == 0, $"{config.ToJsonString()}\n--entry {entry}\n{string.Join("\n", errors.Select(static e => e.ToJsonString()))}\n{yaml}");
            foreach (var lane in settings.ConfiguredLanes.Where(l => l != settings.Services[entry].Settings.BaselineLane && l != settings.DefaultLane))
            {
                Assert.True(
                    yaml.Contains($"            {settings.Header}: {lane}\n      route:", StringComparison.Ordinal)
                        || yaml.Contains($"            {settings.Header}: \"{lane}\"\n      route:", StringComparison.Ordinal),
                    $"the gateway does not set lane '{lane}'\n{config.ToJsonString()}\n{yaml}");
            }
        }

        Assert.True(tested >= 100, $"only {tested} valid configurations were generated");
    }

    private static readonly string[] LanePool = ["green", "yellow", "blue", "canary", "hotfix", "dev1", "dev2"];

    private static JsonObject RandomConfiguration(Random random, out string entry)
    {
        var lanes = new JsonObject();
        switch (random.Next(3))
        {
            case 0:
                lanes["Preset"] = "mspider";
                break;
            case 1:
                lanes["Preset"] = "nsf";
                break;
            default:
                lanes["Header"] = "x-lane";
                lanes["Aliases"] = new JsonArray("x-env");
                lanes["DefaultLane"] = "green";
                break;
        }

        var services = new JsonObject();
        var count = random.Next(1, 5);
        var names = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var name = "svc" + i.ToString(CultureInfo.InvariantCulture);
            names.Add(name);
            var policy = new[] { null, "Strict", "Permissive", "Declared", "Any" }[random.Next(5)];
            var declared = random.Next(3) == 0 ? null : string.Join(",", LanePool.Where(_ => random.Next(3) == 0));
            var instances = new List<(string, string?)>();
            for (var j = 0; j < random.Next(1, 4); j++)
            {
                instances.Add(($"{name}-{j}", random.Next(4) == 0 ? null : LanePool[random.Next(LanePool.Length)]));
            }

            var service = Service(policy, string.IsNullOrEmpty(declared) ? null : declared, [.. instances]);
            if (random.Next(4) == 0 && instances.FirstOrDefault(static i => i.Item2 is not null).Item2 is { } baseline)
            {
                ((JsonObject)service["Metadata"]!)["laneBaseline"] = baseline;
            }

            services[name] = service;
        }

        lanes["Services"] = services;
        entry = names[random.Next(names.Count)];
        return new JsonObject { ["Lanes"] = lanes };
    }

    private static JsonObject Service(string? policy, string? declared, params (string Id, string? Lane)[] instances)
    {
        var metadata = new JsonObject();
        if (policy is not null)
        {
            metadata["lanePolicy"] = policy;
        }

        if (declared is not null)
        {
            metadata["lanes"] = declared;
        }

        var list = new JsonObject();
        var port = 9080;
        foreach (var (id, lane) in instances)
        {
            var instance = new JsonObject { ["Address"] = $"http://10.0.0.1:{port++}" };
            if (lane is not null)
            {
                instance["Metadata"] = new JsonObject { ["lane"] = lane };
            }

            list[id] = instance;
        }

        return new JsonObject { ["Metadata"] = metadata, ["Instances"] = list };
    }

    private static LaneOptions Bind(JsonObject config)
    {
        var options = new LaneOptions();
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(config.ToJsonString()));
        var configuration = new ConfigurationBuilder().AddJsonStream(stream).Build();
        ConfigurationBinder.Bind(configuration.GetSection(LaneOptions.SectionName), options);
        return options;
    }

    private static (string Yaml, List<JsonObject> Findings) GenerateAndLint(JsonObject config, string entry)
    {
        var directory = Directory.CreateTempSubdirectory("lanes-prop-").FullName;
        try
        {
            var file = Path.Combine(directory, "appsettings.json");
            File.WriteAllText(file, config.ToJsonString());
            var (exit, yaml, error) = Lanes.Run("istio", "generate", "--config", file, "--gateway", "istio-system/gw", "--entry", entry);
            Assert.True(exit == 0, $"generate failed: {error}\n{config.ToJsonString()}");
            var (_, findings) = Lanes.LintText(yaml);
            return (yaml, findings);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
