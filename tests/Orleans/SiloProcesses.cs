using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>
/// Silo processes of samples/DistributedTrainer that meet through a private redis-server, each on
/// ports of its own (so any of them can die and another take its place), and the coordinator
/// and main job runs the tests compare: the machines of a cluster, on this one.
/// </summary>
internal sealed class SiloProcesses : IDisposable
{
    public static readonly TimeSpan Start = TimeSpan.FromSeconds(90);
    public static readonly TimeSpan Training = TimeSpan.FromMinutes(4);

    private readonly RedisServer redis = new();
    private readonly List<(ChildProcess Process, int SiloPort)> silos = new();
    private int started;

    /// <summary><paramref name="count"/> silos, each started with <paramref name="options"/> too, all up.</summary>
    public SiloProcesses(int count, string options = "")
    {
        Cluster = $"--redis {redis.Address} --cluster-id test-{Guid.NewGuid():N} {options}";
        for (var i = 0; i < count; i++)
        {
            StartOne();
        }
    }

    /// <summary>The options that name the cluster, for the coordinator.</summary>
    public string Cluster { get; }

    /// <summary>The silos not killed, oldest first.</summary>
    public IReadOnlyList<(ChildProcess Process, int SiloPort)> Silos => silos;

    /// <summary>The silos that are up (they said so).</summary>
    public IReadOnlyList<(ChildProcess Process, int SiloPort)> Up => silos.Where(s => s.Process.Output.Contains("Silo 0 is up", StringComparison.Ordinal)).ToArray();

    /// <summary>Starts another silo on free ports and, unless told not to, waits until it is up.</summary>
    public void StartOne(bool wait = true)
    {
        var siloPort = Ports.Free();
        var gatewayPort = Ports.Free();
        var name = $"silo {started++}";
        var process = ChildProcess.Dotnet(name, "DistributedTrainer.dll", $"silo 0 {Cluster} --silo-port {siloPort} --gateway-port {gatewayPort}");
        silos.Add((process, siloPort));
        if (wait)
        {
            process.WaitFor("Silo 0 is up", Start);
        }
    }

    /// <summary>Waits until <paramref name="count"/> silos are up.</summary>
    public void AwaitUp(int count)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Up.Count < count)
        {
            Assert.True(clock.Elapsed < Start, $"Only {Up.Count} of {silos.Count} silos came up within {Start}.");
            System.Threading.Thread.Sleep(100);
        }
    }

    /// <summary>Kills <paramref name="silo"/> (SIGKILL) and forgets it.</summary>
    public void Kill(ChildProcess silo)
    {
        silo.Kill();
        silos.RemoveAll(s => s.Process == silo);
        silo.Dispose();
    }

    /// <summary>The silo whose silo port is in <paramref name="address"/> (127.0.0.1:PORT@GENERATION); null when it is no longer there.</summary>
    public ChildProcess? At(string address) =>
        silos.SingleOrDefault(s => address.StartsWith($"127.0.0.1:{s.SiloPort}@", StringComparison.Ordinal)).Process;

    /// <summary>The coordinator: <c>train</c> on this cluster with <paramref name="arguments"/>.</summary>
    public ChildProcess Coordinator(string arguments) => ChildProcess.Dotnet("coordinator", "DistributedTrainer.dll", $"train {Cluster} {arguments}");

    /// <summary>Runs the main job with <paramref name="arguments"/> and returns its model file's bytes.</summary>
    public static byte[] MainJob(string folder, string arguments)
    {
        var model = Path.Combine(folder, $"main-{Guid.NewGuid():N}.fbnn");
        using var mainJob = ChildProcess.Dotnet("main job", "MnistTrainer.dll", $"{arguments} --plot \"{folder}/main.png\" --model \"{model}\"");
        Assert.True(mainJob.WaitForExit(Training) == 0, $"The main job failed:\n{mainJob.Output}");
        return File.ReadAllBytes(model);
    }

    /// <summary>"Worker k on silo ADDRESS" lines: the silo each worker started on last.</summary>
    public static Dictionary<int, string> Started(string output) =>
        Regex.Matches(output, @"^Worker (\d+) on silo (\S+)$", RegexOptions.Multiline)
            .GroupBy(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => g.Last().Groups[2].Value);

    /// <summary>The "Worker k on silo ADDRESS lost after step S (reason)" lines, joined back where the console wrapped them.</summary>
    public static string[] Lost(string output) =>
        Regex.Matches(Regex.Replace(output, @"\s*\n\s*", " "), @"Worker \d+ on silo \S+ lost after step \d+ \(.*?\); its shards go to the others")
            .Select(m => m.Value).ToArray();

    public void Dispose()
    {
        foreach (var (process, _) in silos)
        {
            process.Dispose();
        }

        redis.Dispose();
    }
}
