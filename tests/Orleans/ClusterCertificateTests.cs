using System;
using System.IO;
using System.Linq;
using Xunit;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>
/// Mutual TLS with the cluster's certificate, as the sample sets it up: silo processes that hold
/// it train for a coordinator that holds it too, and refuse one without it or with another.
/// The certificates are made at test time by the sample's certificate command.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterCertificateTests : IDisposable
{
    private const int ConnectTimeout = 3;
    private readonly string folder = Directory.CreateTempSubdirectory("fbp-tls-").FullName;

    [Fact]
    public void OnlyACoordinatorWithTheClusterCertificateTrainsOnTheSilos()
    {
        var certificate = Certificate("cluster.pfx");
        var other = Certificate("other.pfx");
        var siloPort = Ports.Consecutive(2);
        var gatewayPort = Ports.Consecutive(2);
        var cluster = $"--silo-port {siloPort} --gateway-port {gatewayPort}";
        using var silo0 = ChildProcess.Dotnet("silo 0", "DistributedTrainer.dll", $"silo 0 {cluster} --certificate \"{certificate}\"");
        using var silo1 = ChildProcess.Dotnet("silo 1", "DistributedTrainer.dll", $"silo 1 {cluster} --certificate \"{certificate}\"");
        silo0.WaitFor("Silo 0 is up", SiloProcesses.Start);
        silo1.WaitFor("Silo 1 is up", SiloProcesses.Start);
        Assert.Contains("mutual TLS", silo0.Output);

        // Without a certificate, or with another one, the handshake fails: no gateway answers.
        foreach (var refused in new[] { "", $"--certificate \"{other}\"" })
        {
            using var outsider = ChildProcess.Dotnet("outsider", "DistributedTrainer.dll", $"train --workers 2 --epochs 1 {cluster} {refused} --connect-timeout {ConnectTimeout} --model \"{folder}/outsider.fbnn\"");
            Assert.Equal(1, outsider.WaitForExit(SiloProcesses.Start));
            Assert.Contains($"answered within {ConnectTimeout} s (--connect-timeout)", outsider.Output);
            Assert.DoesNotContain("Worker 0", outsider.Output);
            Assert.False(File.Exists($"{folder}/outsider.fbnn"));
        }

        const string run = "--epochs 1 --seed 8";
        using var coordinator = ChildProcess.Dotnet("coordinator", "DistributedTrainer.dll", $"train --workers 2 {run} {cluster} --certificate \"{certificate}\" --plot \"{folder}/curve.png\" --model \"{folder}/member.fbnn\"");
        Assert.True(coordinator.WaitForExit(SiloProcesses.Training) == 0, $"The coordinator with the certificate failed:\n{coordinator.Output}");
        Assert.Contains("mutual TLS", coordinator.Output);
        Assert.Equal(SiloProcesses.MainJob(folder, $"--shards 2 {run}"), File.ReadAllBytes($"{folder}/member.fbnn"));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void TheCertificateCommandWritesAKeyOnlyItsOwnerReadsAndNeverOverwrites()
    {
        var path = Certificate("cluster.pfx");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var before = File.ReadAllBytes(path);

        using var again = ChildProcess.Dotnet("certificate", "DistributedTrainer.dll", $"certificate \"{path}\"");
        Assert.Equal(1, again.WaitForExit(SiloProcesses.Start));
        Assert.Contains("already exists", again.Output);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    /// <summary>A new cluster certificate made by the sample's certificate command.</summary>
    private string Certificate(string name)
    {
        var path = Path.Combine(folder, name);
        using var make = ChildProcess.Dotnet("certificate", "DistributedTrainer.dll", $"certificate \"{path}\"");
        Assert.True(make.WaitForExit(SiloProcesses.Start) == 0, make.Output);
        return path;
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
