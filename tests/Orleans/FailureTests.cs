using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Orleans.TestingHost;
using Xunit;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>Machines that die: a worker's silo, every silo, the coordinator.</summary>
[Collection(ClusterCollection.Name)]
public sealed class FailureTests(ClusterFixture fixture)
{
    // Long enough for a loaded 2-core machine to answer any call of these small runs; a silo
    // that stopped is normally noticed at once, without waiting for it.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ASiloStoppedMidTrainingChangesNothingInTheResult(bool kill)
    {
        var local = Runs.Network().Fit(Runs.Data, Runs.Options(3));
        var events = new WorkerEvents();
        var trainer = new DistributedTrainer(fixture.Client, new DistributedTrainingOptions { Events = events, CallTimeout = Timeout });
        // After batch 5 of epoch 1, on the training thread: the silo of worker 1 stops (cleanly,
        // or killed), so batch 6 finds it gone.
        var stopped = "";
        var progress = new AtBatch(1, 5, () =>
        {
            var silo = Silo(events.Started.Single(e => e.Worker == 1).Silo);
            stopped = silo.SiloAddress.ToParsableString();
            (kill ? fixture.Cluster.KillSiloAsync(silo) : fixture.Cluster.StopSiloAsync(silo)).GetAwaiter().GetResult();
        });
        try
        {
            var distributed = await trainer.FitAsync(Runs.Network(), Runs.Data, Runs.Options(3), progress);

            Assert.Equal(1, progress.Fired);
            Assert.Equal(Runs.Bytes(local.Checkpoint), Runs.Bytes(distributed.Checkpoint));
            Assert.Equal(Runs.Bits(local.History), Runs.Bits(distributed.History));
            // Worker 1 starts again on another silo, and no other worker is lost (one may move to
            // even the silos' load, a Started event of its own). Worker 1 is
            // counted lost when its call fails; a silo torn down in this process can also answer
            // its last call without the worker's state, which the coordinator takes for a silo that
            // restarted: then it starts the worker again without counting it lost (seen in one run
            // of four on a quiet machine, 2026-12-07).
            var events1 = $"Worker 1's silo ({stopped}) {(kill ? "killed" : "stopped")} after batch 5; the workers' events:\n{string.Join("\n", events.All)}";
            Assert.True(events.Started.Any(e => e.Worker == 1 && e.Silo != stopped && e.Step >= 5), events1);
            Assert.True(events.Lost.All(e => e.Worker == 1), events1);
            if (events.Lost.Count > 0)
            {
                var lost = Assert.Single(events.Lost);
                Assert.Equal(stopped, lost.Silo);
                Assert.Equal(5, lost.Step);
            }
        }
        finally
        {
            await fixture.RestoreAsync();
        }
    }

    [Fact]
    public async Task ASiloThatJoinsDuringARunGetsAWorker()
    {
        var local = Runs.Network().Fit(Runs.Data, Runs.Options(3));
        var events = new WorkerEvents();
        var trainer = new DistributedTrainer(fixture.Client, new DistributedTrainingOptions { Events = events, CallTimeout = Timeout });
        // After batch 5 the silo of worker 1 stops: worker 1 starts again beside another. After
        // batch 10 a new silo joins: a worker moves there. Until it has, each batch waits a
        // little (at most 10 s in all), as batches of real size would take their time.
        var joined = "";
        var stop = new AtBatch(1, 5, () => fixture.Cluster.StopSiloAsync(Silo(events.Started.Single(e => e.Worker == 1).Silo)).GetAwaiter().GetResult());
        var join = new AtBatch(1, 10, () => joined = fixture.Cluster.StartAdditionalSiloAsync().GetAwaiter().GetResult().SiloAddress.ToParsableString());
        var waits = 0;
        var progress = new Progress(batch =>
        {
            stop.Report(batch);
            join.Report(batch);
            if (joined.Length > 0 && !events.Started.Any(e => e.Silo == joined) && waits++ < 100)
            {
                Thread.Sleep(100);
            }
        });
        try
        {
            var distributed = await trainer.FitAsync(Runs.Network(), Runs.Data, Runs.Options(3), progress);

            Assert.Equal(Runs.Bytes(local.Checkpoint), Runs.Bytes(distributed.Checkpoint));
            Assert.Equal(1, Assert.Single(events.Lost).Worker);
            Assert.Contains(events.Started, e => e.Silo == joined);
            Assert.Equal(3, events.Started.Select(e => e.Silo).Distinct().Count(s => fixture.Cluster.GetActiveSilos().Any(a => a.SiloAddress.ToParsableString() == s)));
        }
        finally
        {
            await fixture.RestoreAsync();
        }
    }

    /// <summary>Progress that calls an action after every batch.</summary>
    private sealed class Progress(Action<BatchReport> batch) : IProgress<EpochReport>, IProgress<BatchReport>
    {
        public void Report(EpochReport value)
        {
        }

        public void Report(BatchReport value) => batch(value);
    }

    [Fact]
    public async Task ACoordinatorStoppedResumesFromTheLastCheckpointExactly()
    {
        var straight = Runs.Network().Fit(Runs.Data, Runs.Options(3));
        var path = Path.Combine(Path.GetTempPath(), $"fbp-orleans-{Guid.NewGuid():N}.fbnn");
        try
        {
            // A coordinator trains epoch 1 and saves its checkpoint; it goes on into epoch 2, and
            // half-way its client is killed: the coordinator is gone, and what it learned in
            // epoch 2 with it.
            var first = new DistributedTrainer(fixture.Client, new DistributedTrainingOptions { CallTimeout = Timeout });
            first.Fit(Runs.Network(), Runs.Data, Runs.Options(3, epochs: 1)).Checkpoint.Save(path);
            var kill = new AtBatch(2, 15, () => fixture.KillClient());
            await Assert.ThrowsAsync<NoLiveWorkerException<double>>(() => first.ResumeAsync(TrainingCheckpoint<double>.Load(path), Runs.Data, Runs.Options(3), kill));
            Assert.Equal(1, kill.Fired);

            // Another coordinator, on a new client, resumes from the file.
            await fixture.Cluster.InitializeClientAsync();
            var resumed = await new DistributedTrainer(fixture.Client).ResumeAsync(TrainingCheckpoint<double>.Load(path), Runs.Data, Runs.Options(3));

            Assert.Equal(Runs.Bytes(straight.Checkpoint), Runs.Bytes(resumed.Checkpoint));
            Assert.Equal(Runs.Bits(straight.History.Skip(1)), Runs.Bits(resumed.History));
        }
        finally
        {
            File.Delete(path);
            await fixture.EnsureClientAsync();
        }
    }

    [Fact]
    public async Task AClusterWithNoLiveWorkerEndsWithAClearErrorCarryingTheLastGoodNetwork()
    {
        // A cluster of its own with one silo, which stops after batch 5 of epoch 1.
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) => silo.AddShardWorkers());
        builder.ConfigureClient(client => client.AddShardWorkerClient());
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        var events = new WorkerEvents();
        var trainer = new DistributedTrainer(cluster.Client, new DistributedTrainingOptions { Events = events, CallTimeout = Timeout });
        var progress = new AtBatch(1, 5, () => cluster.StopSiloAsync(cluster.Silos[0]).GetAwaiter().GetResult());

        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<NoLiveWorkerException<double>>(() => trainer.FitAsync(Runs.Network(), Runs.Data, Runs.Options(2), progress));
        clock.Stop();

        Assert.Equal(5, e.Step);
        Assert.Equal(1, e.Epoch);
        Assert.Contains("No live worker", e.Message);
        Assert.Contains("after step 5", e.Message);
        Assert.Equal(new[] { 0, 1 }, events.Lost.Select(l => l.Worker).Order());
        // The network after step 5: what training in this process holds after 5 steps.
        using var cancel = new CancellationTokenSource();
        var fiveSteps = Runs.Network().Fit(Runs.Data, Runs.Options(2), new AtBatch(1, 5, cancel.Cancel), cancel.Token);
        Assert.Equal(5, fiveSteps.Checkpoint.Step);
        Assert.Equal(Runs.Bytes(fiveSteps.Network), Runs.Bytes(e.LastNetwork));
        // Bounded: the workers' calls fail at once or give up within the timeout (the workers
        // wait in parallel), with a generous margin for a loaded machine.
        Assert.True(clock.Elapsed < 3 * Timeout, $"The run took {clock.Elapsed} to give up.");
    }

    private InProcessSiloHandle Silo(string address) =>
        fixture.Cluster.Silos.Single(s => s.SiloAddress.ToParsableString() == address);
}
