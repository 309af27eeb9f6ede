using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Lanes.RabbitMQ;

/// <summary>
/// Serialises the consumers of one lane queue while they leave, so that exactly one of them finds itself the last one
/// (and drains the queue before the broker deletes it) even when every replica of a lane stops at the same moment, as a
/// Kubernetes rollout or a deleted Deployment does. Across connections the lock is an exclusive queue on the broker
/// (one connection can hold it; it goes with the connection if the process dies); within a connection, where an
/// exclusive queue does not exclude, a semaphore.
/// </summary>
internal static class LaneLeaveLock
{
    /// <summary>What the lock queue's name adds to the lane queue's.</summary>
    public const string Suffix = ".leaving";

    private const ushort ResourceLocked = 405;
    private static readonly ConditionalWeakTable<IConnection, ConcurrentDictionary<string, SemaphoreSlim>> Local = new();

    /// <summary>Takes the lock of <paramref name="queue"/>; <see langword="null"/> when it could not within <paramref name="timeout"/>.</summary>
    public static async Task<Held?> AcquireAsync(IConnection connection, string queue, TimeSpan timeout, ILogger logger, CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        var local = Local.GetValue(connection, static _ => new(StringComparer.Ordinal)).GetOrAdd(queue, static _ => new SemaphoreSlim(1, 1));
        if (!await local.WaitAsync(timeout, cancellationToken).ConfigureAwait(false))
        {
            LaneRabbitMQLog.LeaveLockTimedOut(logger, queue, timeout);
            return null;
        }

        var name = queue + Suffix;
        try
        {
            while (true)
            {
                var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                try
                {
                    await channel.QueueDeclareAsync(name, durable: false, exclusive: true, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
                    return new Held(local, channel, name);
                }
                catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == ResourceLocked)
                {
                    await channel.DisposeAsync().ConfigureAwait(false);             // another process's consumer is leaving
                }
                catch
                {
                    await channel.DisposeAsync().ConfigureAwait(false);
                    throw;
                }

                if (Environment.TickCount64 > deadline)
                {
                    LaneRabbitMQLog.LeaveLockTimedOut(logger, queue, timeout);
                    local.Release();
                    return null;
                }

                await Task.Delay(25, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            local.Release();
            throw;
        }
    }

    /// <summary>A held lock; disposing releases it.</summary>
    internal sealed class Held(SemaphoreSlim local, IChannel channel, string name) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                if (channel.IsOpen)
                {
                    await channel.QueueDeleteAsync(name).ConfigureAwait(false);
                    await channel.CloseAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is OperationInterruptedException or AlreadyClosedException)
            {
                // The connection is going: the broker deletes an exclusive queue with its connection.
            }
            finally
            {
                await channel.DisposeAsync().ConfigureAwait(false);
                local.Release();
            }
        }
    }
}
