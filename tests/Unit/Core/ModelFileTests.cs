using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using FunctionalBackprop.Core;
using Microsoft.FSharp.Core;
using Xunit;

namespace FunctionalBackprop.Tests.CoreApi;

using Activation = FunctionalBackprop.Core.Activation;
using Initializer = FunctionalBackprop.Core.Initializer;
using Scaler = FunctionalBackprop.Core.Scaler;
using ScalerKind = FunctionalBackprop.Core.ScalerKind;

/// <summary>
/// The model format through one tag table: files written by format 1's writer (Fixtures/) load and
/// are written back byte for byte; a scaler makes a version-2 file; damage in the new section is refused.
/// </summary>
public class ModelFileTests
{
    private static readonly string[] Fixtures = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures"), "*.fbnn").Order().ToArray();

    public static TheoryData<string> FixtureNames() => new(Fixtures.Select(Path.GetFileName)!);

    private static byte[] Write<T>(ModelContents<T> contents)
        where T : System.Numerics.IFloatingPointIeee754<T>
    {
        using var stream = new MemoryStream();
        ModelFile.write(stream, contents);
        return stream.ToArray();
    }

    private static ModelContents<T> Read<T>(byte[] bytes)
        where T : System.Numerics.IFloatingPointIeee754<T> => ModelFile.read<T>(new MemoryStream(bytes));

    /// <summary>CRC-32 (IEEE, reflected polynomial 0xEDB88320, as in zip), bit by bit.</summary>
    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }

    /// <summary>The bytes with their checksum recomputed, so that only the parser's own checks stand in the way.</summary>
    private static byte[] WithChecksum(byte[] bytes)
    {
        var copy = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(copy.Length - 4), Crc32(copy.AsSpan(0, copy.Length - 4)));
        return copy;
    }

    [Fact]
    public void TheChecksumIsCrc32OfEveryByteBeforeIt()
    {
        var bytes = File.ReadAllBytes(Fixtures[0]);
        Assert.Equal(bytes, WithChecksum(bytes));
    }

    [Fact]
    public void EveryFixtureIsThere() => Assert.Equal(7, Fixtures.Length);

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void AFormatOneFileLoadsAndIsWrittenBackByteForByte(string name)
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)));
        var again = name.Contains("float32", StringComparison.Ordinal) ? Write(Read<float>(bytes)) : Write(Read<double>(bytes));
        Assert.Equal(bytes, again);
    }

    [Fact]
    public void TheFormatOneNetworksHoldTheWeightsTheirSeedDraws()
    {
        var specs = new[] { Activation.Identity, Activation.Step, Activation.Sigmoid, Activation.Tanh, Activation.ReLU, Activation.NewLeakyReLU(0.2) }
            .Select(a => LayerSpec.NewDense(4, a, FSharpOption<Initializer>.Some(InitializerModule.forActivation(a))))
            .Append(LayerSpec.NewDense(3, Activation.Softmax, FSharpOption<Initializer>.Some(Initializer.XavierNormal)))
            .ToArray();
        var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "network-v1-float64.fbnn");
        var loaded = Read<double>(File.ReadAllBytes(fixture));
        Assert.Null(loaded.Scaler);
        Assert.Null(loaded.Training);
        Assert.Equal(Write(ModelContents.ofNetwork(Network.init<double>(21UL, Shape.NewVector(3), specs))), File.ReadAllBytes(fixture));
        var single = Path.Combine(AppContext.BaseDirectory, "Fixtures", "network-v1-float32.fbnn");
        Assert.Equal(Write(ModelContents.ofNetwork(Network.init<float>(21UL, Shape.NewVector(3), specs))), File.ReadAllBytes(single));
    }

    [Fact]
    public void TheFormatOneCheckpointsHoldEveryStateTag()
    {
        string Tags(OptimizerState<double> s) => s switch
        {
            { IsStateless: true } => "0",
            { IsStepCount: true } => "1",
            { IsVelocity: true } => "2",
            { IsSquaredGradients: true } => "3",
            { IsMoments: true } => "4",
            { IsLastRate: true } => "5",
            OptimizerState<double>.Chain chain => "6" + string.Concat(chain.states.Select(Tags)),
            _ => "?",
        };
        var tags = Fixtures.Where(f => f.Contains("checkpoint", StringComparison.Ordinal))
            .Select(f => Tags(Read<double>(File.ReadAllBytes(f)).Training!.Value.OptimizerState))
            .ToArray();
        Assert.Equal("0123456", new string(string.Concat(tags).Distinct().Order().ToArray()));
    }

    private static ModelContents<double> WithScaler(ScalerKind kind)
    {
        var network = Network.init<double>(3UL, Shape.NewVector(2), new[] { LayerSpec.NewDense(3, Activation.Tanh, FSharpOption<Initializer>.Some(Initializer.XavierNormal)) });
        var scaler = ScalerModule.create(kind, new[] { -1.5, 7.0 }, new[] { 0.25, 3.0 });
        return new ModelContents<double>(network, FSharpOption<Scaler>.Some(scaler), FSharpOption<Scaler>.None, FSharpOption<TrainingState<double>>.None);
    }

    [Fact]
    public void AScalerMakesAVersionTwoFileAndComesBackExactly()
    {
        foreach (var kind in new[] { ScalerKind.MinMax, ScalerKind.Standard })
        {
            var contents = WithScaler(kind);
            var bytes = Write(contents);
            Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)));
            Assert.Equal(2, bytes[7]);
            var loaded = Read<double>(bytes).Scaler!.Value;
            Assert.Equal(kind, loaded.Kind);
            Assert.Equal(new[] { -1.5, 7.0 }, loaded.Offsets);
            Assert.Equal(new[] { 0.25, 3.0 }, loaded.Scales);
            Assert.Equal(bytes, Write(Read<double>(bytes)));
            Assert.Equal(bytes.Length, Write(ModelContents.ofNetwork(contents.Network)).Length + 1 + (2 * 2 * 8));
        }
    }

    [Fact]
    public void ATargetScalerMakesAVersionTwoFileWithFlagBitTwoAndComesBackExactly()
    {
        var network = WithScaler(ScalerKind.MinMax).Network;
        var target = ScalerModule.create(ScalerKind.Standard, new[] { 150.0, -2.0, 0.5 }, new[] { 77.25, 1e-3, 4.0 });
        var alone = Write(new ModelContents<double>(network, FSharpOption<Scaler>.None, FSharpOption<Scaler>.Some(target), FSharpOption<TrainingState<double>>.None));
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(alone.AsSpan(4)));
        Assert.Equal(4, alone[7]);
        var loaded = Read<double>(alone);
        Assert.True(loaded.Scaler is null);
        Assert.Equal(new[] { 150.0, -2.0, 0.5 }, loaded.TargetScaler!.Value.Offsets);
        Assert.Equal(new[] { 77.25, 1e-3, 4.0 }, loaded.TargetScaler.Value.Scales);
        Assert.Equal(alone, Write(loaded));
        Assert.Equal(alone.Length, Write(ModelContents.ofNetwork(network)).Length + 1 + (2 * 3 * 8));

        var both = Write(new ModelContents<double>(network, WithScaler(ScalerKind.MinMax).Scaler, FSharpOption<Scaler>.Some(target), FSharpOption<TrainingState<double>>.None));
        Assert.Equal(6, both[7]);
        Assert.Equal(both, Write(Read<double>(both)));

        var wide = ScalerModule.create(ScalerKind.Standard, new[] { 0.0, 1.0 }, new[] { 1.0, 1.0 });
        using var stream = new MemoryStream();
        var e = Assert.Throws<ArgumentException>(() => ModelFile.write(stream, new ModelContents<double>(network, FSharpOption<Scaler>.None, FSharpOption<Scaler>.Some(wide), FSharpOption<TrainingState<double>>.None)));
        Assert.Contains("maps 2 targets, but the network gives 3 outputs", e.Message);
        Assert.Equal(0, stream.Length);
    }

    [Fact]
    public void AScalerBitInAFormatOneFileIsRefused()
    {
        var bytes = Write(ModelContents.ofNetwork(WithScaler(ScalerKind.MinMax).Network));
        bytes[7] = 2;
        var e = Assert.Throws<InvalidDataException>(() => Read<double>(WithChecksum(bytes)));
        Assert.Contains("flags 2 are not valid for format 1", e.Message);
    }

    [Fact]
    public void AFormatFourFileWithoutATrainingStateIsRefused()
    {
        // Format 4 exists for checkpoints that stand inside an epoch: a network alone claiming it
        // (its checksum made right) is refused.
        var network = Network.init<double>(1UL, Shape.NewVector(3), new[] { LayerSpec.NewDense(2, Activation.Sigmoid, FSharpOption<Initializer>.None) });
        var bytes = Write(ModelContents.ofNetwork(network));
        bytes[4] = 4;

        var e = Assert.Throws<InvalidDataException>(() => Read<double>(WithChecksum(bytes)));
        Assert.Contains("format 4 holds a checkpoint inside an epoch", e.Message);
    }

    [Fact]
    public void ABadScalerSectionIsRefusedWithWhatIsWrong()
    {
        var bytes = Write(WithScaler(ScalerKind.Standard));
        var section = bytes.Length - 4 - 1 - 32;
        var unknown = (byte[])bytes.Clone();
        unknown[section] = 9;
        Assert.Contains("the scaler code 9 is not known", Assert.Throws<InvalidDataException>(() => Read<double>(WithChecksum(unknown))).Message);
        var zeroScale = (byte[])bytes.Clone();
        BinaryPrimitives.WriteDoubleLittleEndian(zeroScale.AsSpan(section + 1 + 16), 0.0);
        Assert.Contains("scale is 0", Assert.Throws<InvalidDataException>(() => Read<double>(WithChecksum(zeroScale))).Message);
        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<InvalidDataException>(() => Read<double>(bytes[..length]));
        }
    }

    [Fact]
    public void AnyBitFlippedInAScalerFileIsRefusedAndWithTheChecksumFixedIsReadOrRefusedNeverWorse()
    {
        var bytes = Write(WithScaler(ScalerKind.Standard));
        for (var bit = 0; bit < (bytes.Length - 4) * 8; bit++)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<InvalidDataException>(() => Read<double>(damaged));
            try
            {
                // What is read is a valid model: it writes and reads back to itself.
                var again = Write(Read<double>(WithChecksum(damaged)));
                Assert.Equal(again, Write(Read<double>(again)));
            }
            catch (InvalidDataException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
            }
        }
    }

    [Fact]
    public void AScalerThatDoesNotFitTheNetworkIsNotWritten()
    {
        var contents = WithScaler(ScalerKind.MinMax);
        var wide = ScalerModule.create(ScalerKind.MinMax, new[] { 0.0, 0.0, 0.0 }, new[] { 1.0, 1.0, 1.0 });
        using var stream = new MemoryStream();
        var e = Assert.Throws<ArgumentException>(() => ModelFile.write(stream, new ModelContents<double>(contents.Network, FSharpOption<Scaler>.Some(wide), contents.TargetScaler, contents.Training)));
        Assert.Contains("maps 3 features, but the network takes 2 inputs", e.Message);
        Assert.Equal(0, stream.Length);
    }
}
