using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Xunit;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>
/// The samples' command-line errors, as a user meets them: one line that names the option, exit
/// code 2 when the command line is wrong and 1 when the run fails, and no stack trace.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class CommandLineErrorTests
{
    [Theory]
    [InlineData("DistributedTrainer.dll", "train --workers abc", "--workers")]
    [InlineData("MnistTrainer.dll", "--epochs abc", "--epochs")]
    [InlineData("DistributedTrainer.dll", "train --epochs abc", "--epochs")]
    [InlineData("DistributedTrainer.dll", "silo -1", "N must lie between 0 and 999, got -1")]
    [InlineData("DistributedTrainer.dll", "silo abc", "'abc'")]
    [InlineData("DistributedTrainer.dll", "train --timeout 0", "--timeout")]
    [InlineData("DistributedTrainer.dll", "train --connect-timeout -1", "--connect-timeout")]
    [InlineData("DistributedTrainer.dll", "silo 0 --address not-an-address", "--address")]
    [InlineData("DistributedTrainer.dll", "silo 0 --silo-port 70000", "--silo-port")]
    // A silo beyond loopback without TLS (TEST-NET-3, never reached: refused before anything starts).
    [InlineData("DistributedTrainer.dll", "silo 0 --redis 127.0.0.1:6379 --address 203.0.113.9", "--insecure")]
    public void AWrongCommandLineIsOneLineAndExitCode2(string program, string arguments, string names) =>
        AssertOneLine(Run(program, arguments), 2, names);

    [Fact]
    public void NoReachableSiloIsAnErrorWithinTheConnectTimeout()
    {
        var clock = Stopwatch.StartNew();
        var result = Run("DistributedTrainer.dll", $"train --workers 1 --epochs 1 --silo-port {Ports.Free()} --gateway-port {Ports.Free()} --connect-timeout 2");
        clock.Stop();
        AssertOneLine(result, 1, "answered within 2 s (--connect-timeout)");
        // Two seconds of trying, and the process's start and end, on a loaded machine.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"It took {clock.Elapsed} to give up.");
    }

    [Theory]
    [InlineData("silo 0")]
    [InlineData("train --epochs 1 --connect-timeout 4")]
    public void RedisUnreachableIsAnErrorNamingRedis(string command) =>
        AssertOneLine(Run("DistributedTrainer.dll", $"{command} --redis 127.0.0.1:{Ports.Free()} --silo-port {Ports.Free()} --gateway-port {Ports.Free()}"), 1, "cannot reach Redis at 127.0.0.1:");

    [Fact]
    public void AMissingCertificateIsAnErrorNamingTheOption() =>
        AssertOneLine(Run("DistributedTrainer.dll", $"train --certificate \"{Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.pfx")}\""), 1, "--certificate");

    private static (int Code, string Output) Run(string program, string arguments)
    {
        using var process = ChildProcess.Dotnet(program, program, arguments);
        var code = process.WaitForExit(TimeSpan.FromMinutes(1));
        return (code, process.Output);
    }

    private static void AssertOneLine((int Code, string Output) result, int code, string names)
    {
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(result.Code == code, $"Exit code {result.Code}, not {code}:\n{result.Output}");
        var line = Assert.Single(lines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(names, line);
    }
}
