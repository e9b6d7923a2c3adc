using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using Xunit;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>A process of this test (a silo, redis-server), its output kept, killed when disposed.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly string name;

    private ChildProcess(string name, ProcessStartInfo start)
    {
        this.name = name;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = AppContext.BaseDirectory;
        process = Process.Start(start) ?? throw new InvalidOperationException($"{name} did not start.");
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    /// <summary>Kills the process with SIGKILL, as a machine that dies: no clean-up, no goodbye.</summary>
    public void Kill()
    {
        process.Kill();
        process.WaitForExit(10_000);
    }

    /// <summary>Stops (SIGSTOP) or continues (SIGCONT) the process, as a machine that freezes and comes back.</summary>
    public void Signal(bool stop)
    {
        if (Posix.kill(process.Id, stop ? Posix.SIGSTOP : Posix.SIGCONT) != 0)
        {
            throw new InvalidOperationException($"kill({process.Id}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}.");
        }
    }

    public string Output { get { lock (output) { return output.ToString(); } } }

    /// <summary>A program of the test's output folder run by dotnet.</summary>
    public static ChildProcess Dotnet(string name, string dll, string arguments) =>
        new(name, new ProcessStartInfo("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, dll)}\" {arguments}"));

    public static ChildProcess Start(string name, string program, string arguments) => new(name, new ProcessStartInfo(program, arguments));

    /// <summary>Waits until the output holds <paramref name="text"/>; fails with the output when the process ends or the time runs out first.</summary>
    public void WaitFor(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (process.HasExited)
            {
                Assert.Fail($"{name} ended ({process.ExitCode}) before printing '{text}':\n{Output}");
            }

            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"{name} did not print '{text}' within {timeout}:\n{Output}");
            }

            Thread.Sleep(50);
        }
    }

    /// <summary>Waits for the end and returns the exit code; fails with the output when the time runs out.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!process.WaitForExit(timeout))
        {
            Assert.Fail($"{name} did not finish within {timeout}:\n{Output}");
        }

        process.WaitForExit();
        return process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // It ended on its own.
        }

        process.Dispose();
    }
}

/// <summary>The signals the tests send (Linux's numbers).</summary>
internal static class Posix
{
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    public static extern int kill(int pid, int signal);
}

/// <summary>Free loopback ports, asked of the system (the machine is shared: no fixed ports).</summary>
internal static class Ports
{
    /// <summary><paramref name="count"/> consecutive free ports.</summary>
    public static int Consecutive(int count)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var first = Free();
            if (first + count < 65535 && Enumerable.Range(first + 1, count - 1).All(IsFree))
            {
                return first;
            }
        }

        throw new InvalidOperationException($"No {count} consecutive free ports found.");
    }

    public static int Free()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>A fact that needs Debian's redis-server: skipped, saying so, where it is not installed (.ci/run installs it).</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (RedisServer.Path is null)
        {
            Skip = "redis-server is not installed (apt-get install redis-server; .ci/run does): the test of silo processes with membership in Redis cannot run.";
        }
    }
}

/// <summary>A private redis-server on a free loopback port, without persistence, for one test.</summary>
internal sealed class RedisServer : IDisposable
{
    private readonly ChildProcess process;

    public RedisServer()
    {
        Port = Ports.Free();
        process = ChildProcess.Start("redis-server", Path!, $"--port {Port} --bind 127.0.0.1 --save \"\" --appendonly no");
        process.WaitFor("Ready to accept connections", TimeSpan.FromSeconds(30));
    }

    /// <summary>redis-server on PATH, or null.</summary>
    public static string? Path { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(folder => System.IO.Path.Combine(folder, "redis-server"))
        .FirstOrDefault(File.Exists);

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public void Dispose() => process.Dispose();
}

/// <summary>
/// Two silo processes of samples/DistributedTrainer, their membership in a private redis-server,
/// both up: <see cref="Arguments"/> are the options that reach them (for a coordinator's train).
/// </summary>
internal sealed class TwoRedisSilos : IDisposable
{
    private readonly RedisServer redis = new();
    private readonly ChildProcess? silo0;
    private readonly ChildProcess? silo1;

    public TwoRedisSilos(TimeSpan start)
    {
        SiloPort = Ports.Consecutive(2);
        var gatewayPort = Ports.Consecutive(2);
        Arguments = $"--redis {redis.Address} --silo-port {SiloPort} --gateway-port {gatewayPort} --cluster-id test-{Guid.NewGuid():N}";
        try
        {
            silo0 = ChildProcess.Dotnet("silo 0", "DistributedTrainer.dll", $"silo 0 {Arguments}");
            silo1 = ChildProcess.Dotnet("silo 1", "DistributedTrainer.dll", $"silo 1 {Arguments}");
            silo0.WaitFor("Silo 0 is up", start);
            silo1.WaitFor("Silo 1 is up", start);
        }
        catch
        {
            // A silo that did not come up: nothing of the pair outlives the test.
            Dispose();
            throw;
        }
    }

    public string Arguments { get; }

    /// <summary>Silo 0's port; silo 1's is the next.</summary>
    public int SiloPort { get; }

    public void Dispose()
    {
        silo1?.Dispose();
        silo0?.Dispose();
        redis.Dispose();
    }
}
