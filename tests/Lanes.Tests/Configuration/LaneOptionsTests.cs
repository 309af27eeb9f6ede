using Lanes.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lanes.Tests.Configuration;

public class LaneOptionsTests
{
    private static ServiceProvider Build(IDictionary<string, string?> configuration, Action<LaneOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(configuration).Build());
        if (configure is null)
        {
            services.AddLanes();
        }
        else
        {
            services.AddLanes(configure);
        }

        return services.BuildServiceProvider();
    }

    [Fact]
    public void Presets_HaveDocumentedValues()
    {
        var mspider = LaneSettings.Create(new LaneOptions { Preset = "mspider" });
        var nsf = LaneSettings.Create(new LaneOptions { Preset = "NSF" });
        var none = LaneSettings.Create(new LaneOptions());

        Assert.Equal("x-mspider-lane", mspider.Header);
        Assert.Equal(["x-mspider-laneid"], mspider.Aliases.AsEnumerable());
        Assert.Equal("green", mspider.DefaultLane);
        Assert.Equal("x-nsf-mark", nsf.Header);
        Assert.True(nsf.Aliases.IsEmpty);
        Assert.Null(nsf.DefaultLane);
        Assert.Equal("x-lane", none.Header);
        Assert.True(none.Aliases.IsEmpty);
        Assert.Null(none.DefaultLane);
    }

    [Fact]
    public void Preset_ExplicitValuesWin()
    {
        var options = new LaneOptions { Preset = "mspider", Header = "bu", DefaultLane = "wtchk" };
        options.Aliases.Add("buid");

        var settings = LaneSettings.Create(options);

        Assert.Equal("bu", settings.Header);
        Assert.Equal(["buid"], settings.Aliases.AsEnumerable());
        Assert.Equal("wtchk", settings.DefaultLane);
    }

    [Fact]
    public void AddLanes_BindsLanesSection()
    {
        using var provider = Build(new Dictionary<string, string?>
        {
            ["Lanes:Header"] = "bu",
            ["Lanes:Aliases:0"] = "buid",
            ["Lanes:DefaultLane"] = "wtchk",
            ["Lanes:KnownLanes:0"] = "wtchk",
            ["Lanes:KnownLanes:1"] = "wicph",
            ["Lanes:UnknownLanePolicy"] = "Reject",
            ["Lanes:InvalidLanePolicy"] = "Reject",
            ["Lanes:RequireLane"] = "true",
            ["Lanes:MaxLength"] = "16",
        });

        var settings = provider.GetRequiredService<LanePropagator>().Settings;

        Assert.Equal("bu", settings.Header);
        Assert.Equal(["buid"], settings.Aliases.AsEnumerable());
        Assert.Equal("wtchk", settings.DefaultLane);
        Assert.True(settings.IsKnown("wicph"));
        Assert.False(settings.IsKnown("other"));
        Assert.Equal(UnknownLanePolicy.Reject, settings.UnknownLanePolicy);
        Assert.Equal(InvalidLanePolicy.Reject, settings.InvalidLanePolicy);
        Assert.True(settings.RequireLane);
        Assert.Equal(16, settings.MaxLength);
    }

    [Fact]
    public void AddLanes_DelegateWinsOverSection()
    {
        using var provider = Build(
            new Dictionary<string, string?> { ["Lanes:Preset"] = "nsf", ["Lanes:DefaultLane"] = "dev1" },
            o => o.DefaultLane = "dev2");

        var settings = provider.GetRequiredService<LanePropagator>().Settings;

        Assert.Equal("x-nsf-mark", settings.Header);
        Assert.Equal("dev2", settings.DefaultLane);
    }

    [Fact]
    public void AddLanes_CalledTwice_RegistersServicesOnce()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLanes(o => o.UsePreset("nsf"));
        services.AddLanes();

        Assert.Single(services, d => d.ServiceType == typeof(LaneSettingsHolder));
        Assert.Single(services, d => d.ServiceType == typeof(LanePropagator));
        using var provider = services.BuildServiceProvider();
        Assert.Equal("x-nsf-mark", provider.GetRequiredService<LanePropagator>().HeaderName);
    }

    public static TheoryData<string, string?, string> InvalidConfigurations => new()
    {
        { "Lanes:Preset", "istio", "Lanes:Preset 'istio' is not a preset" },
        { "Lanes:MaxLength", "0", "Lanes:MaxLength is 0: use a value from 1 to 256" },
        { "Lanes:MaxLength", "1000", "Lanes:MaxLength is 1000" },
        { "Lanes:Header", "x lane", "Lanes:Header 'x lane' is not a valid HTTP header name" },
        { "Lanes:Aliases:0", "bad:alias", "Lanes:Aliases:0 'bad:alias' is not a valid HTTP header name" },
        { "Lanes:Aliases:0", "X-Lane", "Lanes:Aliases:0 'X-Lane' repeats the canonical header" },
        { "Lanes:DefaultLane", "gr een", "Lanes:DefaultLane 'gr een' is not a valid lane" },
        { "Lanes:DefaultLane", "line\nbreak", "Lanes:DefaultLane 'line\\x0Abreak' is not a valid lane" },
        { "Lanes:KnownLanes:0", "bad lane", "Lanes:KnownLanes:0 'bad lane' is not a valid lane" },
        { "Lanes:UnknownLanePolicy", "UseDefault", "KnownLanes is empty, so no lane is unknown" },
        { "Lanes:BaggageKey", "lane key", "Lanes:BaggageKey 'lane key' is not a valid baggage key" },
        { "Lanes:TraceCacheSize", "-1", "Lanes:TraceCacheSize is -1: use 0 (off) to 1000000 (default 1024)" },
        { "Lanes:TraceCacheSize", "2000000", "Lanes:TraceCacheSize is 2000000" },
        { "Lanes:ServiceIdleTimeout", "00:00:00", "Lanes:ServiceIdleTimeout is 00:00:00: use at least 00:00:01, or -00:00:00.001 for never" },
        { "Lanes:ServiceIdleTimeout", "-00:00:02", "Lanes:ServiceIdleTimeout is -00:00:02" },
    };

    [Fact]
    public void AddLanes_BindsBaggageAndTraceCacheSettings()
    {
        using var provider = Build(new Dictionary<string, string?>
        {
            ["Lanes:Header"] = "bu",
            ["Lanes:BaggageKey"] = "lane",
            ["Lanes:TraceCacheSize"] = "16",
            ["Lanes:ServiceIdleTimeout"] = "-00:00:00.001",
        });

        var settings = provider.GetRequiredService<LanePropagator>().Settings;

        Assert.Equal("lane", settings.BaggageKey);
        Assert.Equal(Timeout.InfiniteTimeSpan, settings.ServiceIdleTimeout);
        Assert.Equal(16, provider.GetRequiredService<Lanes.Tracing.LaneTraceCache>().Capacity);
    }

    [Fact]
    public void Defaults_BaggageOnWithTheHeaderAsKey_TraceCacheOf1024()
    {
        var settings = LaneSettings.Create(new LaneOptions().UsePreset("mspider"));
        var off = LaneSettings.Create(new LaneOptions { EnableBaggage = false, BaggageKey = "not a key but ignored" });

        Assert.Equal("x-mspider-lane", settings.BaggageKey);
        Assert.Equal(1024, settings.TraceCacheSize);
        Assert.Null(off.BaggageKey);
    }

    [Theory]
    [MemberData(nameof(InvalidConfigurations))]
    public void Validate_InvalidConfiguration_FailsWithMessageNamingSetting(string key, string? value, string expectedMessage)
    {
        using var provider = Build(new Dictionary<string, string?> { [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<LanePropagator>());

        Assert.Contains(expectedMessage, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddLanes_ReadmeNsfSectionBesideMSpiderCode_CodeWinsAndTheMixFailsOnTheDefault()
    {
        // The README's "Code and configuration" paragraph: the section's allow-list stays, the code's preset wins.
        using var provider = Build(
            new Dictionary<string, string?> { ["Lanes:Preset"] = "nsf", ["Lanes:KnownLanes:0"] = "dev1", ["Lanes:KnownLanes:1"] = "dev2" },
            o => o.UsePreset("mspider"));

        var options = provider.GetRequiredService<IOptionsMonitor<LaneOptions>>();
        var error = Assert.Throws<OptionsValidationException>(() => options.CurrentValue);

        Assert.Contains("Lanes:DefaultLane 'green' is not in Lanes:KnownLanes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DefaultLaneNotKnown_Fails()
    {
        using var provider = Build(new Dictionary<string, string?>
        {
            ["Lanes:DefaultLane"] = "green",
            ["Lanes:KnownLanes:0"] = "yellow",
        });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<LanePropagator>().Settings);

        Assert.Contains("Lanes:DefaultLane 'green' is not in Lanes:KnownLanes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadEnumValue_FailsAtBindingWithKey()
    {
        using var provider = Build(new Dictionary<string, string?> { ["Lanes:InvalidLanePolicy"] = "Explode" });

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<LanePropagator>().Settings);

        Assert.Contains("Lanes:InvalidLanePolicy", error.Message, StringComparison.Ordinal);
    }
}
