using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>
/// A real cluster on this machine: silo processes of samples/DistributedTrainer that find each
/// other through a membership table in a real redis-server, and its coordinator process training
/// the bundled digits, against the main job.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RedisClusterTests : IDisposable
{
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Training = TimeSpan.FromMinutes(4);

    private readonly string folder = Directory.CreateTempSubdirectory("fbp-orleans-").FullName;

    [RedisFact]
    public void TwoSiloProcessesAndTheCoordinatorTrainAsTheMainJobBitForBit() => TrainOnTwoSilosAndInTheMainJob(string.Empty);

    [RedisFact]
    public void WithDropoutTwoSiloProcessesAndTheCoordinatorTrainAsTheMainJobBitForBit()
    {
        // The samples share their options: --dropout puts the same layers in both, and the
        // workers draw the masks the main job's two shards draw.
        TrainOnTwoSilosAndInTheMainJob("--dropout 0.3");
        var trained = NeuralNetwork<double>.Load($"{folder}/distributed.fbnn");
        Assert.Equal(new[] { LayerKind.Dense, LayerKind.Dropout, LayerKind.Dense }, trained.Layers.Select(l => l.Kind));
    }

    /// <summary>
    /// Two silo processes with membership in a private redis-server, the coordinator training one
    /// epoch on them with <paramref name="options"/>, and the main job with as many shards: the
    /// same lines and the same model file, byte for byte.
    /// </summary>
    private void TrainOnTwoSilosAndInTheMainJob(string options)
    {
        using var silos = new TwoRedisSilos(Start);
        var cluster = silos.Arguments;

        var run = $"--epochs 1 --seed 4 {options} --plot \"{folder}/curve.png\"";
        using var coordinator = ChildProcess.Dotnet("coordinator", "DistributedTrainer.dll", $"train --workers 2 {cluster} {run} --model \"{folder}/distributed.fbnn\"");
        Assert.True(coordinator.WaitForExit(Training) == 0, $"The coordinator failed:\n{coordinator.Output}");
        using var mainJob = ChildProcess.Dotnet("main job", "MnistTrainer.dll", $"--shards 2 {run} --model \"{folder}/main.fbnn\"");
        Assert.True(mainJob.WaitForExit(Training) == 0, $"The main job failed:\n{mainJob.Output}");

        // The same lines and the same network, bit for bit; one worker on each silo.
        Assert.Equal(EpochLines(mainJob.Output), EpochLines(coordinator.Output));
        Assert.Single(EpochLines(coordinator.Output));
        Assert.Equal(File.ReadAllBytes($"{folder}/main.fbnn"), File.ReadAllBytes($"{folder}/distributed.fbnn"));
        Assert.Matches($@"Worker 0 on silo 127\.0\.0\.1:{silos.SiloPort}@", coordinator.Output);
        Assert.Matches($@"Worker 1 on silo 127\.0\.0\.1:{silos.SiloPort + 1}@", coordinator.Output);
        Assert.Equal(HeaderLine(mainJob.Output), HeaderLine(coordinator.Output));
    }

    /// <summary>The first line, which describes the run ("784-30-10 sigmoid, quadratic, …").</summary>
    private static string HeaderLine(string output) => Regex.Match(output, @"^784-.*$", RegexOptions.Multiline).Value;

    /// <summary>"Epoch k: correct / total", the timings left out.</summary>
    private static string[] EpochLines(string output) =>
        Regex.Matches(output, @"Epoch \d+: \d+ / \d+").Select(m => m.Value).ToArray();

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
