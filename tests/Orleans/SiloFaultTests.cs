using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Xunit;
using Xunit.Abstractions;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>
/// Silo processes that die (SIGKILL) or freeze (SIGSTOP) while the coordinator process trains on
/// them, as machines do: every run still ends with the bits of the main job with as many shards.
/// FUNCTIONALBACKPROP_SILO_KILLS sets how many silos the kill test kills (10 by default; see
/// scripts/silo-kills.sh), FUNCTIONALBACKPROP_SILO_KILL_SEED the seed of its random points.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SiloFaultTests(ITestOutputHelper log) : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("fbp-faults-").FullName;

    [RedisFact]
    public void SilosKilledAtRandomPointsOfRunsChangeNothingInTheResults()
    {
        var kills = int.TryParse(Environment.GetEnvironmentVariable("FUNCTIONALBACKPROP_SILO_KILLS"), out var k) ? k : 10;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FUNCTIONALBACKPROP_SILO_KILL_SEED"), out var s) ? s : Environment.TickCount;
        var random = new Random(seed);
        const string run = "--epochs 4 --seed 5";
        using var cluster = new SiloProcesses(4);
        var expected = SiloProcesses.MainJob(folder, $"--shards 3 {run}");

        var (killed, runs, lost) = (0, 0, 0);
        var clock = Stopwatch.StartNew();
        while (killed < kills)
        {
            // A run of the coordinator's three workers on four silos; once its workers have
            // started, the silo of a random worker is killed at a random point, and another silo
            // starts in its place (new ports, as a machine restarted), until the run ends or
            // enough silos died. A silo dies only while three are up, so that two are left to
            // vote the dead out of the membership (a silo cannot join before that).
            var model = Path.Combine(folder, $"run-{runs}.fbnn");
            cluster.AwaitUp(4);
            using var coordinator = cluster.Coordinator($"--workers 3 {run} --timeout 3 --plot \"{folder}/curve.png\" --model \"{model}\"");
            coordinator.WaitFor("Worker 2 on silo", SiloProcesses.Training);
            var killedInRun = 0;
            while (killed < kills)
            {
                Thread.Sleep(random.Next(200, 1500));
                if (coordinator.HasExited)
                {
                    break;
                }

                var up = cluster.Up;
                if (up.Count < 3)
                {
                    continue;
                }

                var workers = SiloProcesses.Started(coordinator.Output);
                var victim = cluster.At(workers[random.Next(workers.Count)]) ?? up[random.Next(up.Count)].Process;
                cluster.Kill(victim);
                cluster.StartOne(wait: false);
                killed++;
                killedInRun++;
            }

            Assert.True(coordinator.WaitForExit(SiloProcesses.Training) == 0, $"Run {runs} (seed {seed}) failed after {killedInRun} kill(s):\n{coordinator.Output}");
            Assert.True(expected.AsSpan().SequenceEqual(File.ReadAllBytes(model)), $"Run {runs} (seed {seed}, {killedInRun} kill(s)) trained other bits than the main job with 3 shards:\n{coordinator.Output}");
            lost += SiloProcesses.Lost(coordinator.Output).Length;
            runs++;
            log.WriteLine($"run {runs}: {killedInRun} silo(s) killed; the model equals the main job's byte for byte");
        }

        log.WriteLine($"{killed} silos killed in {runs} runs ({lost} workers lost and started again) in {clock.Elapsed.TotalSeconds:F0} s, seed {seed}; every run equal to MnistTrainer --shards 3 {run}.");
    }

    [RedisFact]
    public void AFrozenSiloCostsOnlyItsOwnWorkerNoticedWithinTheCallTimeout()
    {
        // Long enough that the freeze below falls well inside the run on a quiet machine too (an
        // epoch takes about a second there).
        const string run = "--epochs 15 --seed 6";
        const int timeout = 8;
        using var cluster = new SiloProcesses(3);
        var expected = SiloProcesses.MainJob(folder, $"--shards 3 {run}");
        var model = Path.Combine(folder, "frozen.fbnn");
        using var coordinator = cluster.Coordinator($"--workers 3 {run} --timeout {timeout} --plot \"{folder}/curve.png\" --model \"{model}\"");
        coordinator.WaitFor("Epoch 1:", SiloProcesses.Training);

        // A worker is called straight at its own silo's gateway once the coordinator has known that
        // gateway for its gateway-list refresh period and a second (6 s in the sample); before that
        // Orleans may route its calls through any silo, and a silo frozen then can hold up others'
        // calls for one timeout (README, "When machines fail"). The freeze is what comes after: on
        // a quiet machine the first epoch ended 6.1 s after the start and the freeze then cost a
        // second worker (CI, 2026-12-07).
        Thread.Sleep(TimeSpan.FromSeconds(7));
        Assert.False(coordinator.HasExited, $"The run ended before the freeze:\n{coordinator.Output}");

        // The silo of worker 1 freezes (SIGSTOP): its connections stay open, it answers nothing.
        var frozen = SiloProcesses.Started(coordinator.Output)[1];
        var silo = cluster.At(frozen)!;
        var clock = Stopwatch.StartNew();
        silo.Signal(stop: true);
        try
        {
            coordinator.WaitFor($"Worker 1 on silo {frozen} lost", SiloProcesses.Training);
            var noticed = clock.Elapsed;
            Assert.True(coordinator.WaitForExit(SiloProcesses.Training) == 0, $"The coordinator failed:\n{coordinator.Output}");

            var lost = SiloProcesses.Lost(coordinator.Output);
            Assert.True(lost.Length == 1, $"Workers other than the frozen silo's were lost:\n{coordinator.Output}");
            var only = lost[0];
            Assert.Contains($"Worker 1 on silo {frozen} lost", only);
            Assert.Contains($"no answer within {timeout} s", only);
            // Noticed when its call timed out; the line is printed once the batch's shards are
            // done by the others (a few seconds' margin for a loaded machine).
            Assert.True(noticed < TimeSpan.FromSeconds(timeout + 4), $"The frozen silo's worker was reported lost {noticed.TotalSeconds:F1} s after the freeze (timeout {timeout} s):\n{coordinator.Output}");
            Assert.True(expected.AsSpan().SequenceEqual(File.ReadAllBytes(model)), $"The run trained other bits than the main job with 3 shards:\n{coordinator.Output}");
            log.WriteLine($"Worker 1's silo frozen; lost reported after {noticed.TotalSeconds:F1} s (timeout {timeout} s); no other worker lost; the model equals the main job's.");
        }
        finally
        {
            silo.Signal(stop: false);
        }
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
