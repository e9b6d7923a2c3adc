using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using Xunit;
using Xunit.Abstractions;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>
/// A trainer process that saves a checkpoint every 7 steps (--checkpoint, --checkpoint-every),
/// killed with SIGKILL at a random step and started again with --resume, ends with the
/// uninterrupted run's model file byte for byte: the coordinator of samples/DistributedTrainer on
/// two silo processes (their membership in a private redis-server), and the main job alone. The
/// uninterrupted run is the main job with two shards, which the coordinator on two workers equals
/// bit for bit (RedisClusterTests).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class KillAndResumeTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Training = TimeSpan.FromMinutes(4);

    // 8,000 digits in batches of 10: 800 steps an epoch. No multiple of 7 below 5,600 ends an
    // epoch, so every checkpoint these runs save stands inside one.
    private const int StepsPerEpoch = 800;

    private readonly string folder = Directory.CreateTempSubdirectory("fbp-kill-").FullName;

    [RedisFact]
    public void ACoordinatorKilledMidRunAndStartedAgainWithResumeEndsWithTheUninterruptedRunsBits()
    {
        using var silos = new TwoRedisSilos(Start);
        var cluster = silos.Arguments;

        KillAndResume(arguments => ChildProcess.Dotnet("coordinator", "DistributedTrainer.dll", $"train --workers 2 {cluster} {arguments}"), epochs: 3);
    }

    [Fact]
    public void AMainJobKilledMidRunAndStartedAgainWithResumeEndsWithTheUninterruptedRunsBits() =>
        KillAndResume(arguments => ChildProcess.Dotnet("main job", "MnistTrainer.dll", $"--shards 2 {arguments}"), epochs: 5);

    /// <summary>
    /// The uninterrupted run (the main job); a run that <paramref name="start"/> starts with
    /// periodic checkpoints, killed once its checkpoint has passed a random step between 100 and
    /// 1,500; the run started again from the checkpoint: its model file and its epoch lines are the
    /// uninterrupted run's.
    /// </summary>
    private void KillAndResume(Func<string, ChildProcess> start, int epochs)
    {
        var run = $"--epochs {epochs} --seed 4 --plot \"{folder}/curve.png\"";
        var checkpoint = Path.Combine(folder, "run.ckpt");
        var periodic = $"--checkpoint \"{checkpoint}\" --checkpoint-every 7";
        using var straight = ChildProcess.Dotnet("main job", "MnistTrainer.dll", $"--shards 2 {run} --model \"{folder}/straight.fbnn\"");
        Assert.True(straight.WaitForExit(Training) == 0, $"The uninterrupted run failed:\n{straight.Output}");

        var killAfter = Random.Shared.Next(100, 1500);
        long seen;
        using (var first = start($"{run} {periodic} --model \"{folder}/first.fbnn\""))
        {
            seen = WaitForCheckpoint(checkpoint, killAfter, first);
            first.Kill();
        }

        var killed = TrainingCheckpoint<double>.Load(checkpoint);
        output.WriteLine($"Killed once the checkpoint held step {seen} (of {epochs * StepsPerEpoch}, waiting for {killAfter}); the file then held epoch {killed.Epoch}, step {killed.Step}.");
        Assert.InRange(killed.Step, seen, (long)epochs * StepsPerEpoch - 1);
        Assert.NotEqual(0, killed.Step % StepsPerEpoch);
        Assert.False(File.Exists(Path.Combine(folder, "first.fbnn")), "The killed run saved its model: it was not killed mid-run.");

        using var second = start($"{run} {periodic} --resume \"{checkpoint}\" --model \"{folder}/resumed.fbnn\"");
        Assert.True(second.WaitForExit(Training) == 0, $"The resumed run failed:\n{second.Output}");

        // Spectre wraps long lines at the console's width: the words are compared, not the breaks.
        Assert.Contains($"{killed.Epoch} epoch(s) and {killed.Step} step(s) done", Regex.Replace(second.Output, @"\s+", " "));
        Assert.Equal(Sha256(Path.Combine(folder, "straight.fbnn")), Sha256(Path.Combine(folder, "resumed.fbnn")));
        // The epochs it ran report what the uninterrupted run reported, the loss of the epoch it resumed included.
        Assert.Equal(EpochLines(straight.Output).Skip(killed.Epoch), EpochLines(second.Output));
        Assert.Equal(epochs - killed.Epoch, EpochLines(second.Output).Length);
        output.WriteLine($"Resumed and ended with the uninterrupted run's model file, SHA-256 {Sha256(Path.Combine(folder, "resumed.fbnn"))}.");
    }

    /// <summary>Waits until the checkpoint file holds step <paramref name="step"/> or a later one; returns the step it holds then.</summary>
    private static long WaitForCheckpoint(string path, long step, ChildProcess run)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            // Each save renames a whole file over the last, so any read sees a whole checkpoint.
            if (File.Exists(path) && TrainingCheckpoint<double>.Load(new MemoryStream(File.ReadAllBytes(path))).Step is var held && held >= step)
            {
                return held;
            }

            Assert.False(run.HasExited, $"The run ended before its checkpoint reached step {step}:\n{run.Output}");
            Assert.True(clock.Elapsed < Training, $"The checkpoint did not reach step {step} within {Training}:\n{run.Output}");
            Thread.Sleep(10);
        }
    }

    private static string Sha256(string path) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>"Epoch k: correct / total   loss L", the timings left out.</summary>
    private static string[] EpochLines(string output) =>
        Regex.Matches(output, @"Epoch \d+: \d+ / \d+ +loss [0-9.]+").Select(m => m.Value).ToArray();

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
