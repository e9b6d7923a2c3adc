using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FunctionalBackprop.Testing;
using Microsoft.FSharp.Core;
using Xunit;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>
/// Resuming from any step through the facade: Fit cancelled after batch k, its checkpoint saved
/// and loaded, then resumed, gives the uninterrupted run's bits; periodic checkpoints are saved
/// atomically and resume the same way.
/// </summary>
public sealed class ResumeTests : IDisposable
{
    // 23 examples in batches of 4: 6 batches per epoch, the last one of 3.
    private const int BatchesPerEpoch = 6;

    private static readonly Dataset<double> Data = Examples(23, seed: 3);
    private static readonly Dataset<double> Validation = Examples(7, seed: 4);

    private readonly string folder = Directory.CreateTempSubdirectory("fbp-resume-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>A network with running statistics (batch normalisation) and random masks (dropout).</summary>
    private static NeuralNetwork<double> Network() =>
        NeuralNetwork.Create(3).Dense(6, Activation.Identity).BatchNorm(momentum: 0.2).Activation(Activation.Tanh).Dropout(0.25).Dense(2, Activation.Softmax).Build(seed: 5);

    private static FitOptions Options(int shards) => new()
    {
        Epochs = 3,
        BatchSize = 4,
        Shards = shards,
        Seed = 9,
        Loss = Loss.CrossEntropy,
        Optimizer = Optimizer.Adam(0.02),
        ValidationData = Validation,
    };

    private static Dataset<double> Examples(int count, int seed)
    {
        var random = new Random(seed);
        var inputs = Enumerable.Range(0, count).Select(_ => new[] { random.NextDouble(), random.NextDouble() - 0.5, 2 * random.NextDouble() }).ToArray();
        return Dataset<double>.FromLabels(inputs, inputs.Select(x => x[0] + x[1] > 0.5 ? 1 : 0).ToArray(), 2);
    }

    /// <summary>Every bit of a checkpoint: the network with its running statistics, the optimizer's state, the epoch and the step.</summary>
    private static byte[] Bytes(TrainingCheckpoint<double> checkpoint)
    {
        using var stream = new MemoryStream();
        checkpoint.Save(stream);
        return stream.ToArray();
    }

    /// <summary>A batch report's numbers, as bits (the time left out).</summary>
    private static long[] Bits(BatchReport r) =>
        FunctionalBackprop.Testing.Bits.Of(new[] { r.Epoch, r.Batch, r.Step, r.BatchLoss, r.RunningLoss, r.LearningRate ?? double.NaN });

    /// <summary>Progress that records the batch reports and cancels once step <paramref name="cancelAt"/> is taken.</summary>
    private static TrainingProgress Recording(List<BatchReport> batches, CancellationTokenSource? cancel = null, long cancelAt = -1) =>
        new(onBatch: b =>
        {
            batches.Add(b);
            if (b.Step == cancelAt)
            {
                cancel!.Cancel();
            }
        });

    public static TheoryData<int, int> Cuts()
    {
        // Steps after which the run is cancelled: inside the first epoch, after its last batch
        // (an epoch's end), before the last batch of the second, inside the third; one shard and three.
        var data = new TheoryData<int, int>();
        foreach (var shards in new[] { 1, 3 })
        {
            foreach (var step in new[] { 1, 4, BatchesPerEpoch, BatchesPerEpoch + 5, 2 * BatchesPerEpoch + 2 })
            {
                data.Add(step, shards);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cuts))]
    public void FitCancelledAfterBatchKThenSavedLoadedAndResumedEqualsTheUninterruptedRun(int k, int shards)
    {
        var straightBatches = new List<BatchReport>();
        var straight = Network().Fit(Data, Options(shards), Recording(straightBatches));
        using var cancel = new CancellationTokenSource();
        var first = Network().Fit(Data, Options(shards), Recording(new List<BatchReport>(), cancel, k), cancel.Token);
        var path = Path.Combine(folder, "checkpoint.fbnn");
        first.Checkpoint.Save(path);

        var loaded = TrainingCheckpoint<double>.Load(path);
        var resumedBatches = new List<BatchReport>();
        var resumed = loaded.Resume(Data, Options(shards), Recording(resumedBatches));

        Assert.Equal(StopReason.Cancelled, first.Stopped);
        Assert.Equal((k / BatchesPerEpoch, (long)k), (loaded.Epoch, loaded.Step));
        Assert.Equal(Bytes(straight.Checkpoint), Bytes(resumed.Checkpoint));
        Assert.Equal(FunctionalBackprop.Testing.Bits.Of(straight.History.Skip(loaded.Epoch)), FunctionalBackprop.Testing.Bits.Of(resumed.History));
        Assert.Equal(straightBatches.Where(b => b.Step > k).Select(Bits), resumedBatches.Select(Bits));
    }

    [Fact]
    public void ACheckpointThatDoesNotFitTheBatchSizeIsRefusedNamingTheOptions()
    {
        using var cancel = new CancellationTokenSource();
        var checkpoint = Network().Fit(Data, Options(1), Recording(new List<BatchReport>(), cancel, 8), cancel.Token).Checkpoint;

        // 1 epoch and 8 steps: with batches of 2 the second epoch would span steps 13 to 24.
        var e = Assert.Throws<ArgumentException>(() => checkpoint.Resume(Data, Options(1) with { BatchSize = 2 }));

        Assert.Equal("options", e.ParamName);
        Assert.Contains("step 8 after 1 epoch(s), which does not fit 12 batches per epoch (23 examples in batches of 2)", e.Message);
        Assert.Contains("FitOptions.BatchSize is 2", e.Message);
    }

    [Fact]
    public void CheckpointsEveryFiveStepsAreSavedThereAndEachResumesToTheUninterruptedRun()
    {
        var path = Path.Combine(folder, "periodic.fbnn");
        var straight = Network().Fit(Data, Options(2));
        // The file read after each batch: a new checkpoint appears after steps 5, 10 and 15.
        var seen = new List<byte[]>();
        var progress = new TrainingProgress(onBatch: _ =>
        {
            if (File.Exists(path) && (seen.Count == 0 || !seen[^1].AsSpan().SequenceEqual(File.ReadAllBytes(path))))
            {
                seen.Add(File.ReadAllBytes(path));
            }
        });

        var periodic = Network().Fit(Data, Options(2) with { Checkpoints = new CheckpointSchedule(path, every: 5) }, progress);

        Assert.Equal(Bytes(straight.Checkpoint), Bytes(periodic.Checkpoint));
        var checkpoints = seen.Select(bytes => TrainingCheckpoint<double>.Load(new MemoryStream(bytes))).ToArray();
        Assert.Equal(new long[] { 5, 10, 15 }, checkpoints.Select(c => c.Step));
        Assert.All(checkpoints, c => Assert.Equal(Bytes(straight.Checkpoint), Bytes(c.Resume(Data, Options(2)).Checkpoint)));
        Assert.Equal(new[] { path }, Directory.GetFiles(folder));
    }

    [Fact]
    public void CheckpointsEveryTwoEpochsHoldTheSecondEpochsEnd()
    {
        var path = Path.Combine(folder, "epochs.fbnn");
        var straight = Network().Fit(Data, Options(1));

        Network().Fit(Data, Options(1) with { Checkpoints = new CheckpointSchedule(path, every: 2, ScheduleUnit.Epochs) });

        var saved = TrainingCheckpoint<double>.Load(path);
        Assert.Equal((2, 2L * BatchesPerEpoch), (saved.Epoch, saved.Step));
        Assert.Equal(Bytes(straight.Checkpoint), Bytes(saved.Resume(Data, Options(1)).Checkpoint));
        // At an epoch's end the file is in the format it always had (3: it holds batch normalisation).
        Assert.Equal(3, File.ReadAllBytes(path)[4]);
    }

    [Fact]
    public void APeriodicCheckpointThatFailsToWriteEndsTheRunAndLeavesThePreviousOneWhole()
    {
        var path = Path.Combine(folder, "failing.fbnn");
        var saves = 0;
        byte[]? first = null;
        var progress = new TrainingProgress(onBatch: b =>
        {
            if (b.Step == 4)
            {
                first = File.ReadAllBytes(path);
            }
        });
        try
        {
            // The first save (step 3) goes through; the second (step 6) fails after 100 bytes.
            ModelStorage.WrapForTesting = s => ++saves == 1 ? s : new FailingStream(s, 100);
            var e = Assert.Throws<IOException>(() => Network().Fit(Data, Options(1) with { Checkpoints = new CheckpointSchedule(path, every: 3) }, progress));
            Assert.Contains("Simulated failure", e.Message);
        }
        finally
        {
            ModelStorage.WrapForTesting = null;
        }

        Assert.Equal(2, saves);
        Assert.Equal(first, File.ReadAllBytes(path));
        Assert.Equal(3, TrainingCheckpoint<double>.Load(path).Step);
        Assert.Equal(new[] { path }, Directory.GetFiles(folder));
    }

    [Fact]
    public void ABadScheduleIsRefusedByName()
    {
        Assert.Equal("every", Assert.Throws<ArgumentOutOfRangeException>(() => new CheckpointSchedule("a.fbnn", every: 0)).ParamName);
        Assert.Equal("unit", Assert.Throws<ArgumentOutOfRangeException>(() => new CheckpointSchedule("a.fbnn", 1, (ScheduleUnit)7)).ParamName);
        Assert.Equal("path", Assert.Throws<ArgumentException>(() => new CheckpointSchedule(" ", 1)).ParamName);

        var missing = Path.Combine(folder, "no-such-folder", "run.fbnn");
        var e = Assert.Throws<ArgumentException>(() => Network().Fit(Data, Options(1) with { Checkpoints = new CheckpointSchedule(missing, 1) }));
        Assert.Equal("options", e.ParamName);
        Assert.Contains("folder does not exist", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(folder));
    }

    [Fact]
    public void ACheckpointInsideAnEpochIsFormat4AndRefusedWhenTruncatedOrAnyBitFlips()
    {
        using var cancel = new CancellationTokenSource();
        var checkpoint = Network().Fit(Data, Options(1), Recording(new List<BatchReport>(), cancel, 3), cancel.Token).Checkpoint;
        var bytes = Bytes(checkpoint);

        Assert.Equal(4, bytes[4]);
        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<InvalidDataException>(() => TrainingCheckpoint<double>.Load(new MemoryStream(bytes, 0, length)));
        }

        for (var bit = 0; bit < 8 * bytes.Length; bit++)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<InvalidDataException>(() => TrainingCheckpoint<double>.Load(new MemoryStream(damaged)));
        }
    }

    [Fact]
    public void ACheckpointInsideAnEpochFromAnEarlierVersionResumesTheSameBits()
    {
        // Earlier versions saved a cancelled run's step but not its epoch's running loss (format
        // 3 here): resuming gives the same network and optimizer state, and the same reports from
        // the next epoch on; the resumed epoch's loss is the mean of the batches after the resume.
        var straight = Network().Fit(Data, Options(1));
        using var cancel = new CancellationTokenSource();
        var checkpoint = Network().Fit(Data, Options(1), Recording(new List<BatchReport>(), cancel, 4), cancel.Token).Checkpoint;
        using var earlier = new MemoryStream();
        Core.ModelFile.write(earlier, checkpoint.Network.Contents(new Core.TrainingState<double>(checkpoint.OptimizerName, checkpoint.OptimizerState, checkpoint.Epoch, checkpoint.Step, FSharpOption<double>.None)));
        Assert.Equal(3, earlier.ToArray()[4]);
        earlier.Position = 0;

        var batches = new List<BatchReport>();
        var resumed = TrainingCheckpoint<double>.Load(earlier).Resume(Data, Options(1), Recording(batches));

        Assert.Equal(Bytes(straight.Checkpoint), Bytes(resumed.Checkpoint));
        Assert.Equal(FunctionalBackprop.Testing.Bits.Of(straight.History.Skip(1)), FunctionalBackprop.Testing.Bits.Of(resumed.History.Skip(1)));
        Assert.Equal(batches.Take(2).Average(b => b.BatchLoss), resumed.History[0].TrainingLoss, tolerance: 1e-12);
    }
}
