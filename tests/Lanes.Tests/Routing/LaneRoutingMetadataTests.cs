using Lanes.Routing;

namespace Lanes.Tests.Routing;

public sealed class LaneRoutingMetadataTests
{
    private static Dictionary<string, string> Meta(params (string Key, string Value)[] pairs)
        => pairs.ToDictionary(static p => p.Key, static p => p.Value);

    [Fact]
    public void TryReadService_NoMetadata_IsPermissiveWithTheDefaultLaneAsBaseline()
    {
        Assert.True(LaneRoutingMetadata.TryReadService(null, "green", 63, out var settings, out _));

        Assert.Equal(LanePolicy.Permissive, settings.Policy);
        Assert.Null(settings.DeclaredLanes);
        Assert.Equal("green", settings.BaselineLane);
        Assert.False(settings.PanicToAny);
    }

    [Fact]
    public void TryReadService_AllKeys_AreRead()
    {
        var metadata = Meta(("lanes", " dev1, dev2 ,dev1"), ("lanePolicy", "declared"), ("laneBaseline", "dev1"), ("lanePanicToAny", "true"));

        Assert.True(LaneRoutingMetadata.TryReadService(metadata, "green", 63, out var settings, out _));

        Assert.Equal(LanePolicy.Declared, settings.Policy);
        Assert.Equal(["dev1", "dev2"], settings.DeclaredLanes!);
        Assert.Equal("dev1", settings.BaselineLane);
        Assert.True(settings.PanicToAny);
    }

    [Fact]
    public void TryReadService_EmptyBaseline_MeansTheUnlabelledInstancesEvenWithADefaultLane()
    {
        Assert.True(LaneRoutingMetadata.TryReadService(Meta(("laneBaseline", "")), "green", 63, out var settings, out _));

        Assert.Null(settings.BaselineLane);
    }

    [Theory]
    [InlineData("lanePolicy", "Lenient", "'lanePolicy' must be one of")]
    [InlineData("lanes", "dev1,de v2", "'lanes' must be a comma-separated list")]
    [InlineData("laneBaseline", "a/b", "'laneBaseline' must be one lane")]
    [InlineData("lanePanicToAny", "yes", "'lanePanicToAny' must be true or false")]
    public void TryReadService_InvalidValue_NamesTheKey(string key, string value, string message)
    {
        Assert.False(LaneRoutingMetadata.TryReadService(Meta((key, value)), null, 63, out _, out var error));

        Assert.StartsWith(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryReadService_InvalidValueWithControlCharacters_IsEscapedInTheError()
    {
        Assert.False(LaneRoutingMetadata.TryReadService(Meta(("lanePolicy", "x\r\ny")), null, 63, out _, out var error));

        Assert.DoesNotContain('\r', error);
        Assert.DoesNotContain('\n', error);
    }

    [Theory]
    [InlineData(null, true, null)]
    [InlineData("", true, null)]
    [InlineData(" dev1 ", true, "dev1")]
    [InlineData("dev1,dev2", false, null)]
    [InlineData("dev 1", false, null)]
    public void TryReadInstanceLane_ReadsOneLaneOrNone(string? value, bool valid, string? lane)
    {
        var metadata = value is null ? null : Meta(("lane", value));

        Assert.Equal(valid, LaneRoutingMetadata.TryReadInstanceLane(metadata, 63, out var read, out var error));
        Assert.Equal(lane, read);
        Assert.Equal(valid, error is null);
    }

    [Fact]
    public void IsLaneAware_OnlyWithAServiceKeyOrALabelledInstance()
    {
        Assert.False(LaneRoutingMetadata.IsLaneAware(null, anyLabelledInstance: false));
        Assert.False(LaneRoutingMetadata.IsLaneAware(Meta(("other", "x")), anyLabelledInstance: false));
        Assert.True(LaneRoutingMetadata.IsLaneAware(Meta(("lanePolicy", "Strict")), anyLabelledInstance: false));
        Assert.True(LaneRoutingMetadata.IsLaneAware(null, anyLabelledInstance: true));
    }
}
