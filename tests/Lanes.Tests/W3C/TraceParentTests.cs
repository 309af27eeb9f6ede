using Lanes.W3C;

namespace Lanes.Tests.W3C;

public class TraceParentTests
{
    [Theory]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "0af7651916cd43dd8448eb211c80319c")]
    [InlineData(" 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00 ", "0af7651916cd43dd8448eb211c80319c")]
    [InlineData("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-holds", "0af7651916cd43dd8448eb211c80319c")]
    public void TryGetTraceId_Valid_ReturnsTheTraceId(string header, string expected)
    {
        Assert.True(TraceParent.TryGetTraceId(header, out var traceId));
        Assert.Equal(expected, traceId.ToHexString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01")]
    [InlineData("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01")]
    [InlineData("00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01")]
    [InlineData("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x")]
    public void TryGetTraceId_Invalid_ReturnsFalse(string header)
    {
        Assert.False(TraceParent.TryGetTraceId(header, out _));
    }

    [Fact]
    public void TryGetTraceId_RepeatedHeader_IsInvalid()
    {
        const string Value = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        Assert.False(TraceParent.TryGetTraceId(new Microsoft.Extensions.Primitives.StringValues([Value, Value]), out _));
    }
}
