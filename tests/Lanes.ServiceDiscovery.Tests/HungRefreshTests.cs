using System.Net;
using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;
using Microsoft.Extensions.Time.Testing;

namespace Lanes.ServiceDiscovery.Tests;

/// <summary>
/// A discovery provider that stops answering (a hung API server, a stuck DNS query) must not freeze a service's
/// instances silently: the refresh gives up after discovery's refresh period on the injected clock, keeps the last
/// good snapshot, logs it (304) and tries again a period later.
/// </summary>
public sealed class HungRefreshTests
{
    [Fact]
    public async Task RefreshThatHangs_KeepsTheLastGoodSnapshot_Logs_AndTheNextRefreshAfterThePeriodApplies()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var discovery = new HangingProviderFactory();
        using var logs = new InMemoryLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs));
        services.AddSingleton<TimeProvider>(time);
        services.AddServiceDiscoveryCore();
        services.AddSingleton<IServiceEndpointProviderFactory>(discovery);
        services.AddLaneServiceEndpoints();
        await using var provider = services.BuildServiceProvider();
        try
        {
            var endpoints = provider.GetRequiredService<LaneServiceEndpoints>();
            var period = new ServiceDiscoveryOptions().RefreshPeriod;
            async Task<string?> LaneAsync() => (await endpoints.GetAsync("http", "details", CancellationToken.None))!.Definition.Instances.Single().Lane;
            Assert.Equal("yellow", await LaneAsync());
            var good = Assert.Single(endpoints.GetStatuses());
            Assert.True(good.IsKnown);
            Assert.Equal(1, good.Instances);
            Assert.Equal(time.GetUtcNow(), good.Refreshed);
            Assert.Null(good.FailingSince);

            // The instance is relabelled green, but the provider hangs when asked again.
            discovery.Hang();
            discovery.Lane = "green";
            discovery.Change();
            await Wait.UntilAsync(() => discovery.Asked >= 2, "the refresh to ask the provider again", () => $"asked {discovery.Asked} time(s)");
            await Wait.UntilAsync(
                () =>
                {
                    time.Advance(period);                                    // until the refresh's wait exists and ran out
                    return logs.Records.Any(static r => r.EventId.Name == "ServiceEndpointsRefreshTimedOut");
                },
                "the hung refresh to give up after the refresh period");
            Assert.Equal("yellow", await LaneAsync());                       // the last good snapshot keeps serving

            // ... and says so where the admin page reads it: since when, why, and how old the serving snapshot is.
            var stale = Assert.Single(endpoints.GetStatuses());
            Assert.Equal(good.Refreshed, stale.Refreshed);
            Assert.NotNull(stale.FailingSince);
            Assert.Contains("no answer within", stale.Failure, StringComparison.Ordinal);

            // The provider answers again: the retry a period later applies the change.
            discovery.Release();
            await Wait.ForAsync(
                () =>
                {
                    time.Advance(period);
                    return LaneAsync();
                },
                static lane => lane == "green",
                "the retry after the period to apply green");
            var recovered = Assert.Single(endpoints.GetStatuses());
            Assert.Null(recovered.FailingSince);
            Assert.Null(recovered.Failure);
            Assert.True(recovered.Refreshed > stale.FailingSince);
        }
        finally
        {
            discovery.Release();                                        // a failing test must not leave discovery hung at dispose
        }
    }

    [Fact]
    public async Task AHungReading_IsCancelled_AndTheProvidersAreNotCalledAgainUntilItEnds()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var discovery = new HangingProviderFactory();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(time);
        services.AddServiceDiscoveryCore();
        services.AddSingleton<IServiceEndpointProviderFactory>(discovery);
        services.AddLaneServiceEndpoints();
        await using var provider = services.BuildServiceProvider();
        try
        {
            var endpoints = provider.GetRequiredService<LaneServiceEndpoints>();
            var period = new ServiceDiscoveryOptions().RefreshPeriod;
            await endpoints.GetAsync("http", "details", CancellationToken.None);
            discovery.Hang();
            discovery.Change();
            await Wait.UntilAsync(() => discovery.Asked == 2, "the refresh to hang in the provider");

            // Five refresh periods pass: the hung reading is cancelled, and no second reading starts beside it.
            await Wait.UntilAsync(
                () =>
                {
                    time.Advance(period);                                    // until the reading's wait exists and ran out
                    return discovery.CancellationSeen;
                },
                "the hung reading to be cancelled after the refresh period");
            for (var i = 0; i < 5; i++)
            {
                time.Advance(period);
                discovery.Change();
            }

            var askedWhileHung = discovery.Asked;
            discovery.Lane = "green";
            discovery.Release();                                         // the hung reading ends; the next one may run
            var lane = await Wait.ForAsync(
                async () =>
                {
                    time.Advance(period);
                    discovery.Change();
                    return (await endpoints.GetAsync("http", "details", CancellationToken.None))!.Definition.Instances.Single().Lane;
                },
                static l => l == "green",
                "a reading after the hung one ended to apply green");

            Assert.Equal(2, askedWhileHung);
            Assert.Equal(1, discovery.MaxInside);
            Assert.Equal("green", lane);
        }
        finally
        {
            discovery.Release();
        }
    }

    /// <summary>One instance of "details" with <see cref="Lane"/>; while hung, PopulateAsync waits until released.</summary>
    private sealed class HangingProviderFactory : IServiceEndpointProviderFactory, IDisposable
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private CancellationTokenSource _changes = new();
        private volatile bool _hung;
        private int _asked;
        private int _inside;
        private int _maxInside;
        private volatile bool _cancellationSeen;

        public volatile string Lane = "yellow";

        public int Asked => Volatile.Read(ref _asked);

        public int MaxInside => Volatile.Read(ref _maxInside);

        public bool CancellationSeen => _cancellationSeen;

        public void Hang() => _hung = true;

        public void Release()
        {
            _hung = false;
            _released.TrySetResult();
        }

        public void Change() => Interlocked.Exchange(ref _changes, new CancellationTokenSource()).Cancel();   // the old one stays undisposed: a registration may still read it

        public void Dispose() => _changes.Dispose();

        public bool TryCreateProvider(ServiceEndpointQuery query, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IServiceEndpointProvider? provider)
        {
            provider = query.ServiceName == "details" ? new Provider(this) : null;
            return provider is not null;
        }

        private sealed class Provider(HangingProviderFactory owner) : IServiceEndpointProvider
        {
            public async ValueTask PopulateAsync(IServiceEndpointBuilder endpoints, CancellationToken cancellationToken)
            {
                Interlocked.Increment(ref owner._asked);
                var inside = Interlocked.Increment(ref owner._inside);
                int max;
                while ((max = Volatile.Read(ref owner._maxInside)) < inside && Interlocked.CompareExchange(ref owner._maxInside, inside, max) != max)
                {
                }

                try
                {
                    if (owner._hung)
                    {
                        using var seen = cancellationToken.Register(static o => ((HangingProviderFactory)o!)._cancellationSeen = true, owner);
                        await owner._released.Task;                     // ignores cancellation, as a stuck call does
                    }
                }
                finally
                {
                    Interlocked.Decrement(ref owner._inside);
                }

                var endpoint = ServiceEndpoint.Create(new IPEndPoint(IPAddress.Loopback, 1));
                endpoint.WithLane(owner.Lane, "a");
                endpoints.Endpoints.Add(endpoint);
                endpoints.AddChangeToken(new CancellationChangeToken(owner._changes.Token));
            }

            public ValueTask DisposeAsync() => default;
        }
    }
}
