using System.Net;
using Lanes.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;
using Microsoft.Extensions.Time.Testing;

namespace Lanes.ServiceDiscovery.Tests;

/// <summary>
/// How <see cref="LaneServiceEndpoints"/> follows its providers' change tokens (docs/behaviour.md, "Service discovery
/// and resilience"): a token that fired while it was being read brings another read at once; a token with callbacks is
/// followed by its callback; a token without callbacks is read again each refresh period; both kinds on one service.
/// The clock is a <see cref="FakeTimeProvider"/> that only moves when a test moves it, so a read that happens without
/// moving it was not the refresh period's.
/// </summary>
public sealed class ChangeTokenReadTests
{
    private static readonly TimeSpan RefreshPeriod = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task TokenThatFiredDuringTheRead_BringsAnotherReadAtOnce_NotAfterARefreshPeriod()
    {
        // The first read hands out a token that has already changed (and has no callbacks): what it read is already
        // stale. The second read (port 5002) must follow at once.
        var provider = new ScriptedProvider(
            (5001, new FixedToken(hasChanged: true)),
            (5002, new FixedToken(hasChanged: false)));
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var services = Build(time, provider);
        var endpoints = services.GetRequiredService<LaneServiceEndpoints>();

        await endpoints.GetAsync("http", "details", CancellationToken.None);

        await Wait.UntilAsync(
            async () => (await endpoints.GetAsync("http", "details", CancellationToken.None))!.Definition.Instances.Single().Address.Port == 5002,
            "the second reading (port 5002) without the clock moving");
        Assert.Equal(2, provider.Reads);
    }

    [Fact]
    public async Task CallbackAndPollingTokens_OnOneService_EachBringAReading()
    {
        // Two providers for one service: one whose token calls back, one whose token must be polled.
        using var fired = new CancellationTokenSource();
        var callback = new ScriptedProvider((5001, new CancellationChangeToken(fired.Token)), (5001, new CancellationChangeToken(CancellationToken.None)));
        var polled = new ScriptedProvider((6001, new FixedToken(hasChanged: false)));
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var services = Build(time, callback, polled);
        var endpoints = services.GetRequiredService<LaneServiceEndpoints>();

        var first = await endpoints.GetAsync("http", "details", CancellationToken.None);
        Assert.Equal([5001, 6001], first!.Definition.Instances.Select(static i => i.Address.Port).Order());
        Assert.Equal((1, 1), (callback.Reads, polled.Reads));

        // The callback: a second reading, the clock not moved.
        fired.Cancel();
        await Wait.UntilAsync(() => callback.Reads == 2 && polled.Reads == 2, "a reading after the callback", () => $"{callback.Reads}, {polled.Reads}");

        // The polled token: one more reading when the refresh period ends (the clock moves only here). The poll timer is
        // armed after the second reading has ended, which a test cannot see (the count above moves when the provider is
        // called); a timer armed after an Advance counts its period from then, so the clock moves a period at a time
        // until the reading comes. Without a poll timer no number of periods brings it.
        await Wait.UntilAsync(
            () =>
            {
                time.Advance(RefreshPeriod);
                return polled.Reads >= 3;
            },
            "a reading when the refresh period ends",
            () => $"{polled.Reads}");
    }

    private static ServiceProvider Build(TimeProvider time, params ScriptedProvider[] providers)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(time);
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(Fleet.NsfLanes).Build());
        services.Configure<ServiceDiscoveryOptions>(static o => o.RefreshPeriod = RefreshPeriod);
        foreach (var provider in providers)
        {
            services.AddSingleton<IServiceEndpointProviderFactory>(provider);
        }

        services.AddLaneServiceEndpoints();
        return services.BuildServiceProvider();
    }

    /// <summary>A change token that is what it is told: changed or not, never calling back.</summary>
    private sealed class FixedToken(bool hasChanged) : IChangeToken
    {
        public bool HasChanged => hasChanged;

        public bool ActiveChangeCallbacks => false;

        public IDisposable RegisterChangeCallback(Action<object?> callback, object? state) => throw new InvalidOperationException("no callbacks: poll HasChanged");
    }

    /// <summary>A provider for <c>details</c> whose readings follow a script (the last step repeats), counting them.</summary>
    private sealed class ScriptedProvider(params (int Port, IChangeToken Token)[] script) : IServiceEndpointProviderFactory
    {
        private readonly (int Port, IChangeToken Token)[] _script = script;
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public bool TryCreateProvider(ServiceEndpointQuery query, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IServiceEndpointProvider? provider)
        {
            provider = query.ServiceName == "details" ? new Provider(this) : null;
            return provider is not null;
        }

        private sealed class Provider(ScriptedProvider owner) : IServiceEndpointProvider
        {
            public ValueTask PopulateAsync(IServiceEndpointBuilder endpoints, CancellationToken cancellationToken)
            {
                var step = owner._script[Math.Min(Interlocked.Increment(ref owner._reads), owner._script.Length) - 1];
                var endpoint = ServiceEndpoint.Create(new IPEndPoint(IPAddress.Loopback, step.Port));
                endpoint.WithLane("yellow", step.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
                endpoints.Endpoints.Add(endpoint);
                endpoints.AddChangeToken(step.Token);
                return ValueTask.CompletedTask;
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
