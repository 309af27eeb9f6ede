using System.Diagnostics;
using Lanes.Testing;
using RabbitMQ.Client;

namespace Lanes.RabbitMQ.Tests;

/// <summary>
/// A real RabbitMQ for the whole test assembly: the broker <c>LANES_AMQP_URI</c> names, or a node of Debian's
/// <c>rabbitmq-server</c> started by <c>.ci/rabbitmq.sh</c> on loopback with its own port and vhost, stopped at the end.
/// Every test declares objects under its own prefix (<see cref="NewName"/>), so tests share the broker, not state.
/// </summary>
public sealed class Broker : IAsyncLifetime
{
    private string? _dir;

    public Uri Uri { get; private set; } = null!;

    public IConnection Connection { get; private set; } = null!;

    public static string NewName(string what) => $"t-{what}-{Guid.NewGuid():N}"[..Math.Min(60, what.Length + 35)];

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("LANES_AMQP_URI") is { Length: > 0 } external)
        {
            Uri = new Uri(external);
        }
        else
        {
            _dir = Path.Combine(Path.GetTempPath(), "lanes-rabbitmq-" + Guid.NewGuid().ToString("N"));
            var (code, output, error) = await RunAsync("start", _dir);
            if (code != 0)
            {
                throw new InvalidOperationException($"RabbitMQ did not start (.ci/rabbitmq.sh exit {code}): {error.Trim()}. Run the tests with ./test.sh, which installs what they need (see its header), or set LANES_AMQP_URI.");
            }

            Uri = new Uri(output.Trim().Split('\n')[^1]);
        }

        Connection = await Connect();
    }

    public Task<IConnection> Connect(string? name = null)
        => new ConnectionFactory { Uri = Uri, ClientProvidedName = name ?? "lanes-tests", AutomaticRecoveryEnabled = false }.CreateConnectionAsync();

    /// <summary>Whether <paramref name="queue"/> exists, asked on a throwaway channel (a passive declare of a missing queue closes its channel).</summary>
    public async Task<bool> QueueExistsAsync(string queue)
    {
        await using var probe = await Connection.CreateChannelAsync();
        try
        {
            await probe.QueueDeclarePassiveAsync(queue);
            return true;
        }
        catch (global::RabbitMQ.Client.Exceptions.OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return false;
        }
    }

    public async Task DisposeAsync()
    {
        if (Connection is not null)
        {
            await Connection.CloseAsync();
            Connection.Dispose();
        }

        if (_dir is not null)
        {
            await RunAsync("stop", _dir);
        }
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(string command, string dir)
    {
        var script = Path.Combine(RepositoryRoot.Path, ".ci", "rabbitmq.sh");
        using var process = Process.Start(new ProcessStartInfo("bash", [script, command, dir])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        return (process.ExitCode, await output, await error);
    }
}

[CollectionDefinition(Name)]
public sealed class BrokerGroup : ICollectionFixture<Broker>
{
    public const string Name = "RabbitMQ";
}
