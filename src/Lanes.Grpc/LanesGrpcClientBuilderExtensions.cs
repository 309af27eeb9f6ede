using Lanes;
using Lanes.Grpc;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Lanes for gRPC clients made with <c>AddGrpcClient&lt;T&gt;()</c>.</summary>
public static class LanesGrpcClientBuilderExtensions
{
    /// <summary>
    /// Every call of this gRPC client carries the current lane (<see cref="LaneClientInterceptor"/>). Needs
    /// <c>services.AddLanes()</c>; throws when <paramref name="builder"/> is not a gRPC client's builder.
    /// </summary>
    /// <example><code>services.AddGrpcClient&lt;Reviews.ReviewsClient&gt;(o => o.Address = new("http://reviews")).AddGrpcLanePropagation();</code></example>
    public static IHttpClientBuilder AddGrpcLanePropagation(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton(static sp => new LaneClientInterceptor(RequirePropagator(sp)));

        // grpc-dotnet's AddInterceptor throws a clear error when this is not a gRPC client's builder.
        return builder.AddInterceptor(static sp => sp.GetRequiredService<LaneClientInterceptor>());
    }

    internal static LanePropagator RequirePropagator(IServiceProvider services)
        => services.GetService<LanePropagator>()
            ?? throw new InvalidOperationException("Lanes is not registered: call services.AddLanes() before using Lanes with gRPC.");
}
