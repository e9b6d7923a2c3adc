using System.Linq;
using Xunit;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>Training on the cluster's workers against training in this process.</summary>
[Collection(ClusterCollection.Name)]
public sealed class EqualityTests(ClusterFixture fixture)
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void TrainingOnKWorkersEqualsTheSingleProcessRunWithKShardsBitForBit(int k)
    {
        var local = Runs.Network().Fit(Runs.Data, Runs.Options(k));
        var events = new WorkerEvents();
        var distributed = new DistributedTrainer(fixture.Client, new DistributedTrainingOptions { Events = events }).Fit(Runs.Network(), Runs.Data, Runs.Options(k));

        // The network, the optimizer's state, the epoch and the step; and every report.
        Assert.Equal(Runs.Bytes(local.Checkpoint), Runs.Bytes(distributed.Checkpoint));
        Assert.Equal(Runs.Bits(local.History), Runs.Bits(distributed.History));
        Assert.Equal(StopReason.Completed, distributed.Stopped);
        Assert.Equal(60, distributed.Checkpoint.Step);
        Assert.Empty(events.Lost);
        Assert.Equal(Enumerable.Range(0, k), events.Started.Select(e => e.Worker).Order());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void TrainingWithDropoutOnKWorkersEqualsTheSingleProcessRunWithKShardsBitForBit(int k)
    {
        // Each worker draws the masks of its examples from the seed, the step and their places in
        // the epoch's order, as the shards of one process do.
        var local = Runs.DropoutNetwork().Fit(Runs.Data, Runs.Options(k));
        var events = new WorkerEvents();
        var distributed = new DistributedTrainer(fixture.Client, new DistributedTrainingOptions { Events = events }).Fit(Runs.DropoutNetwork(), Runs.Data, Runs.Options(k));

        Assert.Equal(Runs.Bytes(local.Checkpoint), Runs.Bytes(distributed.Checkpoint));
        Assert.Equal(Runs.Bits(local.History), Runs.Bits(distributed.History));
        Assert.Equal(StopReason.Completed, distributed.Stopped);
        Assert.Equal(60, distributed.Checkpoint.Step);
        Assert.Empty(events.Lost);
        Assert.Equal(k, events.Started.Count);

        // Dropout took part: the same weights and order of examples without it train otherwise.
        var plain = Runs.Network().Fit(Runs.Data, Runs.Options(k));
        Assert.NotEqual(Runs.Bits(plain.History), Runs.Bits(distributed.History));
        Assert.Equal(new[] { LayerKind.Dropout, LayerKind.Dense, LayerKind.Dropout, LayerKind.Dense }, distributed.Network.Layers.Select(l => l.Kind));
    }

    [Fact]
    public void ADropoutRunResumedOnTheWorkersFromItsCheckpointEqualsTheUninterruptedRun()
    {
        // The resumed steps draw their masks from the step the checkpoint holds.
        var straight = Runs.DropoutNetwork().Fit(Runs.Data, Runs.Options(3));
        var trainer = new DistributedTrainer(fixture.Client);
        var half = trainer.Fit(Runs.DropoutNetwork(), Runs.Data, Runs.Options(3, epochs: 1));
        using var stream = new System.IO.MemoryStream(Runs.Bytes(half.Checkpoint));
        var resumed = trainer.Resume(TrainingCheckpoint<double>.Load(stream), Runs.Data, Runs.Options(3));

        Assert.Equal(Runs.Bytes(straight.Checkpoint), Runs.Bytes(resumed.Checkpoint));
    }

    [Fact]
    public void EachWorkerRunsOnASiloOfItsOwn()
    {
        var events = new WorkerEvents();
        new DistributedTrainer(fixture.Client, new DistributedTrainingOptions { Events = events }).Fit(Runs.Network(), Runs.Data, Runs.Options(3, epochs: 1));

        var silos = fixture.Cluster.GetActiveSilos().Select(s => s.SiloAddress.ToParsableString()).Order().ToArray();
        Assert.Equal(silos, events.Started.Select(e => e.Silo).Order().ToArray());
    }

    [Fact]
    public void TheDefaultShardCountIsOnePerLiveSilo()
    {
        // Shards = 0 and no Workers: one shard and one worker per live silo (three here).
        var local = Runs.Network().Fit(Runs.Data, Runs.Options(ClusterFixture.Silos, epochs: 1));
        var events = new WorkerEvents();
        var distributed = new DistributedTrainer(fixture.Client, new DistributedTrainingOptions { Events = events }).Fit(Runs.Network(), Runs.Data, Runs.Options(0, epochs: 1));

        Assert.Equal(Runs.Bytes(local.Checkpoint), Runs.Bytes(distributed.Checkpoint));
        Assert.Equal(ClusterFixture.Silos, events.Started.Count);
    }

    [Fact]
    public void TheDefaultShardCountFollowsTheWorkersWhenTheyAreSet()
    {
        var local = Runs.Network().Fit(Runs.Data, Runs.Options(2, epochs: 1));
        var distributed = new DistributedTrainer(fixture.Client, new DistributedTrainingOptions { Workers = 2 }).Fit(Runs.Network(), Runs.Data, Runs.Options(0, epochs: 1));

        Assert.Equal(Runs.Bytes(local.Checkpoint), Runs.Bytes(distributed.Checkpoint));
    }

    [Fact]
    public void FewerWorkersThanShardsGiveTheSameBits()
    {
        // The shard count alone decides the bits: 3 shards on 2 workers (one computes two).
        var local = Runs.Network().Fit(Runs.Data, Runs.Options(3, epochs: 1));
        var events = new WorkerEvents();
        var distributed = new DistributedTrainer(fixture.Client, new DistributedTrainingOptions { Workers = 2, Events = events }).Fit(Runs.Network(), Runs.Data, Runs.Options(3, epochs: 1));

        Assert.Equal(Runs.Bytes(local.Checkpoint), Runs.Bytes(distributed.Checkpoint));
        Assert.Equal(2, events.Started.Count);
    }
}
