using System;
using System.IO;
using System.Linq;
using Xunit;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>Saving and loading: bit for bit, resumable, and never damaged by a failure.</summary>
public sealed class SaveLoadTests : IDisposable
{
    private static readonly double[][] Inputs = { new[] { 0.0, 0.0 }, new[] { 0.0, 1.0 }, new[] { 1.0, 0.0 }, new[] { 1.0, 1.0 } };
    private static readonly int[] Labels = { 0, 1, 1, 0 };

    private readonly string folder = Directory.CreateTempSubdirectory("fbp-tests-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static NeuralNetwork<double> Network() =>
        NeuralNetwork.Create(2).Dense(3, Activation.LeakyReLU(0.1)).Dense(4, Activation.Tanh).Dense(1, Activation.Sigmoid).Build(seed: 11);

    private static FitOptions Options(int epochs) =>
        new() { Epochs = epochs, BatchSize = 2, Seed = 4, Loss = Loss.BinaryCrossEntropy, Optimizer = Optimizer.Adam(0.05) };

    private static long[] Bits<T>(NeuralNetwork<T> network)
        where T : System.Numerics.IFloatingPointIeee754<T> =>
        Enumerable.Range(0, network.Layers.Count)
            .SelectMany(i => network.GetWeights(i).Cast<T>().Concat(network.GetBiases(i)))
            .Select(v => BitConverter.DoubleToInt64Bits(double.CreateTruncating(v)))
            .ToArray();

    private static byte[] Saved(NeuralNetwork<double> network)
    {
        using var stream = new MemoryStream();
        network.Save(stream);
        return stream.ToArray();
    }

    [Fact]
    public void ARoundTripKeepsEveryBitAndTheArchitecture()
    {
        var network = Network().Fit(Inputs, Labels, Options(30)).Network;
        var path = Path.Combine(folder, "model.fbnn");
        network.Save(path);
        var loaded = NeuralNetwork<double>.Load(path);
        Assert.Equal(Bits(network), Bits(loaded));
        Assert.Equal(network.Layers, loaded.Layers);
        Assert.Equal(network.Predict(Inputs), loaded.Predict(Inputs));
    }

    [Fact]
    public void Float32NetworksRoundTripToo()
    {
        var network = NeuralNetwork.Create(2).Dense(3, Activation.Sigmoid).Dense(1, Activation.Sigmoid).Build<float>(seed: 3);
        using var stream = new MemoryStream();
        network.Save(stream);
        stream.Position = 0;
        Assert.Equal(Bits(network), Bits(NeuralNetwork<float>.Load(stream)));
        stream.Position = 0;
        var e = Assert.Throws<InvalidDataException>(() => NeuralNetwork<double>.Load(stream));
        Assert.Contains("float32", e.Message);
    }

    [Fact]
    public void ResumingFromASavedCheckpointEqualsTheUninterruptedRun()
    {
        var data = Dataset<double>.FromLabels(Inputs, Labels, 2, singleOutput: true);
        var straight = Network().Fit(data, Options(40));
        var half = Network().Fit(data, Options(15));
        var path = Path.Combine(folder, "checkpoint.fbnn");
        half.Checkpoint.Save(path);
        var loaded = TrainingCheckpoint<double>.Load(path);
        Assert.Equal(15, loaded.Epoch);
        var resumed = loaded.Resume(data, Options(40));
        Assert.Equal(Bits(straight.Network), Bits(resumed.Network));
        Assert.Equal(straight.Checkpoint.Step, resumed.Checkpoint.Step);
    }

    [Fact]
    public void ResumingWithAnotherOptimizerIsRefused()
    {
        var data = Dataset<double>.FromLabels(Inputs, Labels, 2, singleOutput: true);
        var checkpoint = Network().Fit(data, Options(2)).Checkpoint;
        var e = Assert.Throws<ArgumentException>(() => checkpoint.Resume(data, Options(4) with { Optimizer = Optimizer.Sgd(0.1) }));
        Assert.Contains("adam", e.Message);
        Assert.Contains("sgd", e.Message);
    }

    [Fact]
    public void ATruncatedFileFailsWithInvalidDataAtEveryLength()
    {
        var bytes = Saved(Network());
        for (var length = 0; length < bytes.Length; length++)
        {
            var e = Assert.Throws<InvalidDataException>(() => NeuralNetwork<double>.Load(new MemoryStream(bytes, 0, length)));
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
        }
    }

    [Fact]
    public void EveryFlippedBitFailsWithInvalidData()
    {
        var bytes = Saved(Network());
        for (var bit = 0; bit < bytes.Length * 8; bit++)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<InvalidDataException>(() => NeuralNetwork<double>.Load(new MemoryStream(damaged)));
        }
    }

    [Fact]
    public void AFileFromAFutureVersionSaysSo()
    {
        var bytes = Saved(Network());
        bytes[4] = 5; // the version, little-endian u16 after the magic; this library reads 1 to 4
        var e = Assert.Throws<InvalidDataException>(() => NeuralNetwork<double>.Load(new MemoryStream(bytes)));
        Assert.Contains("newer version", e.Message);
    }

    [Fact]
    public void ANetworkFileHasNoCheckpoint()
    {
        var e = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint<double>.Load(new MemoryStream(Saved(Network()))));
        Assert.Contains("no training state", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(20)]
    [InlineData(100)]
    public void AFailureDuringSaveLeavesThePreviousFile(int failAfter)
    {
        var path = Path.Combine(folder, "model.fbnn");
        var original = Network();
        original.Save(path);
        var before = File.ReadAllBytes(path);
        var trained = original.Fit(Inputs, Labels, Options(5)).Network;
        var size = Saved(trained).Length;
        Assert.True(failAfter < size);
        try
        {
            ModelStorage.WrapForTesting = s => new FailingStream(s, failAfter);
            Assert.Throws<IOException>(() => trained.Save(path));
        }
        finally
        {
            ModelStorage.WrapForTesting = null;
        }

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(Bits(original), Bits(NeuralNetwork<double>.Load(path)));
        Assert.Equal(new[] { path }, Directory.GetFiles(folder));
    }

    /// <summary>Saves with the file stream wrapped, expecting the save to fail.</summary>
    private static void SaveFailing(Action save, Func<Stream, Stream> wrap)
    {
        try
        {
            ModelStorage.WrapForTesting = wrap;
            Assert.Throws<IOException>(save);
        }
        finally
        {
            ModelStorage.WrapForTesting = null;
        }
    }

    [Fact]
    public void ASaveInterruptedAtEveryByteLeavesThePreviousFileLoadableAndUnchanged()
    {
        // A network and then a checkpoint (network, Adam's moments, epoch and step) replace a
        // file that holds a checkpoint; each save fails after k bytes, for every k of the new file.
        var path = Path.Combine(folder, "model.fbnn");
        var data = Dataset<double>.FromLabels(Inputs, Labels, 2, singleOutput: true);
        var previous = Network().Fit(data, Options(3)).Checkpoint;
        previous.Save(path);
        var before = File.ReadAllBytes(path);
        var next = previous.Resume(data, Options(6));
        var saves = new (string What, Action Save, int Size)[]
        {
            ("network", () => next.Network.Save(path), Saved(next.Network).Length),
            ("checkpoint", () => next.Checkpoint.Save(path), CheckpointBytes(next.Checkpoint).Length),
        };
        foreach (var (what, save, size) in saves)
        {
            for (var k = 0; k < size; k++)
            {
                SaveFailing(save, s => new FailingStream(s, k));
                Assert.True(before.AsSpan().SequenceEqual(File.ReadAllBytes(path)), $"{what}, failing after {k} of {size} bytes: the file changed");
                Assert.Single(Directory.GetFiles(folder));
            }

            // All bytes written, then the flush fails: still the previous file.
            SaveFailing(save, s => new FailingStream(s, long.MaxValue, failOnFlush: true));
            Assert.Equal(before, File.ReadAllBytes(path));
        }

        var loaded = TrainingCheckpoint<double>.Load(path);
        Assert.Equal(Bits(previous.Network), Bits(loaded.Network));
        Assert.Equal(previous.Step, loaded.Step);
        Assert.Equal(new[] { path }, Directory.GetFiles(folder));
        next.Checkpoint.Save(path);
        Assert.Equal(next.Checkpoint.Step, TrainingCheckpoint<double>.Load(path).Step);
    }

    private static byte[] CheckpointBytes(TrainingCheckpoint<double> checkpoint)
    {
        using var stream = new MemoryStream();
        checkpoint.Save(stream);
        return stream.ToArray();
    }

    [Fact]
    public void ACheckpointTruncatedOrWithAnyBitFlippedIsRefused()
    {
        var bytes = CheckpointBytes(Network().Fit(Inputs, Labels, Options(3)).Checkpoint);
        for (var length = 0; length < bytes.Length; length++)
        {
            var e = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint<double>.Load(new MemoryStream(bytes, 0, length)));
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
        }

        for (var bit = 0; bit < bytes.Length * 8; bit++)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<InvalidDataException>(() => TrainingCheckpoint<double>.Load(new MemoryStream(damaged)));
        }
    }

    [Fact]
    public void ADivergedRunsLastFiniteNetworkSavesAndTheDivergedStateNeverDoes()
    {
        var network = NeuralNetwork.Create(2).Dense(2, Activation.Identity).Build(seed: 1);
        var targets = Inputs.Select(x => new[] { x[0] * 1000, x[1] * 1000 }).ToArray();
        var e = Assert.Throws<TrainingDivergedException<double>>(() =>
            network.Fit(Inputs, targets, new FitOptions { Epochs = 100, BatchSize = 1, Optimizer = Optimizer.Sgd(1e6) }));
        Assert.Equal((e.Step - 1) / 4 + 1, e.Epoch);
        var path = Path.Combine(folder, "last-finite.fbnn");
        e.LastFiniteNetwork.Save(path);
        var loaded = NeuralNetwork<double>.Load(path);
        Assert.Equal(Bits(e.LastFiniteNetwork), Bits(loaded));
        Assert.All(Bits(loaded), b => Assert.True(double.IsFinite(BitConverter.Int64BitsToDouble(b))));

        // A checkpoint whose optimizer state holds NaN (a line search's rate) is refused before a byte is written.
        var before = File.ReadAllBytes(path);
        var poisoned = new TrainingCheckpoint<double>(loaded, Core.OptimizerState<double>.NewLastRate(3, double.NaN), "line-search", 1, 3, null);
        Assert.Contains("not finite", Assert.Throws<ArgumentException>(() => poisoned.Save(path)).Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(folder));
    }
}
