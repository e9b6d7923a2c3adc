using System;
using System.IO;
using System.Linq;
using Xunit;

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
        bytes[4] = 2; // the version, little-endian u16 after the magic
        var e = Assert.Throws<InvalidDataException>(() => NeuralNetwork<double>.Load(new MemoryStream(bytes)));
        Assert.Contains("newer version", e.Message);
    }

    [Fact]
    public void ANetworkFileHasNoCheckpoint()
    {
        var e = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint<double>.Load(new MemoryStream(Saved(Network()))));
        Assert.Contains("no training state", e.Message);
    }

    /// <summary>A stream that fails once a given number of bytes has been written.</summary>
    private sealed class FailingStream(Stream inner, long failAfter) : Stream
    {
        private long written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var allowed = (int)Math.Max(0, Math.Min(buffer.Length, failAfter - written));
            inner.Write(buffer[..allowed]);
            written += allowed;
            if (allowed < buffer.Length)
            {
                throw new IOException($"Simulated failure after {written} bytes.");
            }
        }
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
}
