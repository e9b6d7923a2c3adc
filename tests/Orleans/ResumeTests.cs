using System;
using System.IO;
using System.Linq;
using System.Threading;
using Xunit;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>
/// Resuming on the cluster's workers from any step: a run on the workers cancelled after batch k,
/// its checkpoint saved and loaded, then resumed on the workers, ends with the uninterrupted run's
/// bits (the run in this process with as many shards).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ResumeTests(ClusterFixture fixture)
{
    private const int BatchesPerEpoch = 30;

    /// <summary>
    /// Cut points drawn from a fixed seed (so every run tests the same ones) over both epochs of
    /// the runs, for one, two and three shards, and the end of the first epoch.
    /// </summary>
    public static TheoryData<int, int> Cuts()
    {
        var random = new Random(27);
        var data = new TheoryData<int, int>();
        foreach (var shards in new[] { 1, 2, 3 })
        {
            data.Add(random.Next(1, 2 * BatchesPerEpoch), shards);
            data.Add(random.Next(1, 2 * BatchesPerEpoch), shards);
        }

        data.Add(BatchesPerEpoch, 3);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cuts))]
    public void ARunCancelledOnTheWorkersAfterBatchKResumesThereToTheUninterruptedRunsBits(int k, int shards)
    {
        var straight = Runs.BatchNormNetwork().Fit(Runs.Data, Runs.Options(shards));
        var trainer = new DistributedTrainer(fixture.Client);
        using var cancel = new CancellationTokenSource();
        var cut = new AtBatch((k - 1) / BatchesPerEpoch + 1, (k - 1) % BatchesPerEpoch + 1, cancel.Cancel);

        var first = trainer.Fit(Runs.BatchNormNetwork(), Runs.Data, Runs.Options(shards), cut, cancel.Token);
        using var saved = new MemoryStream(Runs.Bytes(first.Checkpoint));
        var resumed = trainer.Resume(TrainingCheckpoint<double>.Load(saved), Runs.Data, Runs.Options(shards));

        Assert.Equal(1, cut.Fired);
        Assert.Equal((k / BatchesPerEpoch, (long)k), (first.Checkpoint.Epoch, first.Checkpoint.Step));
        Assert.Equal(Runs.Bytes(straight.Checkpoint), Runs.Bytes(resumed.Checkpoint));
        Assert.Equal(Runs.Bits(straight.History.Skip(first.Checkpoint.Epoch)), Runs.Bits(resumed.History));
    }
}
