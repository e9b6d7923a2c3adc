using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using FunctionalBackprop.Onnx;
using Google.Protobuf;
using Xunit;
using Xunit.Abstractions;
using DataType = global::Onnx.TensorProto.Types.DataType;
using Core = FunctionalBackprop.Core;
using Proto = global::Onnx;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>
/// Hostile ONNX files get the contract of the library's own format: every truncation, every bit
/// flip and random rewrites of real files (the library's exports and PyTorch's) either load as a
/// usable network or are refused with InvalidDataException or NotSupportedException and a message
/// that says what is wrong; never another exception, and never an allocation the file's size does
/// not justify. ONNX has no checksum, so a flipped bit inside a weight loads as another valid
/// network: that is accepted, as long as it is finite and usable. Then the same files broken with
/// intent, everywhere they can be: each initializer removed (named as missing), each node made to
/// read its own or a later node's output (named as a cycle), each initializer given each wrong
/// element type, and each claiming about 10⁹ elements (refused before anything is allocated).
/// </summary>
public sealed class HostileOnnxTests(ITestOutputHelper output)
{
    /// <summary>
    /// Bytes a load may allocate per byte of input, plus a fixed slack. Protobuf's object model
    /// costs a few hundred bytes per message, and an empty message is two bytes long; decoded
    /// parameters cost a few times their bytes (copies for the matrix, its transpose, float64).
    /// </summary>
    private const long BytesPerInputByte = 512;

    private const long Slack = 1 << 20;

    private static readonly Lazy<(string Name, byte[] Bytes)[]> Seeds = new(() => new[]
    {
        ("float32 export", OnnxTesting.Export(NeuralNetwork.Create(3).Dense(4, Activation.LeakyReLU(0.1)).Dense(3, Activation.Softmax).Build<float>(seed: 1))),
        ("float64 export", OnnxTesting.Export(NeuralNetwork.Create(2).Dense(3, Activation.LeakyReLU(0.1)).Dense(2, Activation.Step).Dense(1, Activation.Sigmoid).Build<double>(seed: 2))),
        ("float32 export with a scaler", OnnxTesting.Export(NeuralNetwork.Create(3).Dense(2, Activation.Tanh).Build<float>(seed: 3)
            .WithScaler(Scaler.FitStandard(new[] { new[] { 1f, 20f, -3f }, new[] { 4f, -50f, 6.5f } })))),
        ("float32 export with a target scaler", OnnxTesting.Export(NeuralNetwork.Create(3).Dense(2, Activation.Tanh).Dense(2).Build<float>(seed: 4)
            .WithTargetScaler(Scaler.FitStandard(new[] { new[] { 150f, -0.5f }, new[] { 340f, 0.25f } })))),
        ("PyTorch Gemm", File.ReadAllBytes(Path.Combine(OnnxTesting.DataFolder, "initializers-as-inputs-float32-opset9.onnx"))),
        ("PyTorch MatMul", File.ReadAllBytes(Path.Combine(OnnxTesting.DataFolder, "matmul-nobias-float32-opset17.onnx"))),
        ("PyTorch Reshape", File.ReadAllBytes(Path.Combine(OnnxTesting.DataFolder, "reshape-gemm-float64-opset13.onnx"))),
        ("float32 image export", OnnxTesting.Export(ImageNetworks.Network<float>(Core.Shape.NewImage(1, 6, 5), 3, ImageNetworks.Small))),
        ("float64 image export", OnnxTesting.Export(ImageNetworks.Network<double>(Core.Shape.NewImage(1, 6, 5), 4, ImageNetworks.Small))),
        ("PyTorch LeNet", File.ReadAllBytes(Path.Combine(OnnxTesting.DataFolder, "lenet-avgpool-padded-float32-opset9.onnx"))),
    });

    public static TheoryData<string> SeedNames()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in Seeds.Value)
        {
            data.Add(name);
        }

        return data;
    }

    private static byte[] Seed(string name) => Seeds.Value.Single(s => s.Name == name).Bytes;

    /// <summary>
    /// Loads the bytes as float32 and as float64 through <see cref="OnnxNetwork.LoadContents{T}(Stream)"/>
    /// (which <see cref="OnnxModel.Load{T}(Stream)"/> wraps); returns the failure, or null when the
    /// contract held: a documented refusal with a message, or a usable network, the load allocating
    /// no more than the file's size justifies.
    /// </summary>
    private static string? Violation(byte[] bytes, ref long worstRatio)
    {
        foreach (var asDouble in new[] { false, true })
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            Action? usable = null;
            try
            {
                if (asDouble)
                {
                    var contents = OnnxNetwork.LoadContents<double>(new MemoryStream(bytes, writable: false));
                    usable = () => Usable(contents);
                }
                else
                {
                    var contents = OnnxNetwork.LoadContents<float>(new MemoryStream(bytes, writable: false));
                    usable = () => Usable(contents);
                }
            }
            catch (Exception e) when (e.GetType() == typeof(InvalidDataException) || e.GetType() == typeof(NotSupportedException))
            {
                if (string.IsNullOrWhiteSpace(e.Message) || e.Message.Length < 20)
                {
                    return $"{e.GetType().Name} without a useful message: \"{e.Message}\"";
                }
            }
            catch (Exception e)
            {
                return $"unexpected {e.GetType().Name}: {e}";
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (bytes.Length >= 256)
            {
                worstRatio = Math.Max(worstRatio, allocated / bytes.Length);
            }

            if (allocated > (BytesPerInputByte * bytes.Length) + Slack)
            {
                return $"allocated {allocated:N0} bytes for {bytes.Length:N0} bytes of input";
            }

            try
            {
                usable?.Invoke();
            }
            catch (Exception e)
            {
                return $"a loaded network is not usable: {e}";
            }
        }

        return null;
    }

    /// <summary>
    /// The values one example of a layer may hold for the network to be run here. A valid file may
    /// declare images of any size up to the core's 2³⁰ values; its forward pass then needs memory to
    /// match, which is the network's, not the reader's to bound, so larger networks are not run.
    /// </summary>
    private const int RunnableValues = 1 << 16;

    /// <summary>A loaded network runs (when small enough) and exports to a file that loads to the same bits and the same scaler.</summary>
    private static void Usable<T>(Core.ModelContents<T> contents)
        where T : IFloatingPointIeee754<T>
    {
        var network = contents.Network;
        if (network.Shapes.All(s => s.Size <= RunnableValues))
        {
            Assert.Equal(network.OutputWidth, Core.Forward.run(network, Core.Matrix.ofColumnMajor(network.InputWidth, 1, new T[network.InputWidth])).Rows);
        }

        using var stream = new MemoryStream();
        OnnxNetwork.Save(contents, stream, OnnxTesting.ExportOptionsFor(network));
        var again = OnnxNetwork.LoadContents<T>(new MemoryStream(stream.ToArray()));
        Assert.Equal(OnnxTesting.Bits(network), OnnxTesting.Bits(again.Network));
        Assert.Equal(contents.Scaler?.Value.ToString(), again.Scaler?.Value.ToString());
        Assert.Equal(contents.Scaler?.Value.Offsets.ToArray(), again.Scaler?.Value.Offsets.ToArray());
        Assert.Equal(contents.Scaler?.Value.Scales.ToArray(), again.Scaler?.Value.Scales.ToArray());
    }

    private void Check(string what, IEnumerable<(string Case, byte[] Bytes)> inputs)
    {
        var failures = new List<string>();
        long worst = 0;
        var count = 0;
        foreach (var (label, bytes) in inputs)
        {
            count++;
            if (Violation(bytes, ref worst) is { } failure)
            {
                failures.Add($"{label}: {failure}");
            }
        }

        output.WriteLine($"{what}: {count} inputs, largest allocation {worst} bytes per input byte (inputs of 256 bytes or more)");
        Assert.True(failures.Count == 0, $"{what}: {failures.Count} of {count} inputs broke the contract; the first:\n{string.Join("\n", failures.Take(5))}");
    }

    [Theory]
    [MemberData(nameof(SeedNames))]
    public void EveryTruncationIsReadOrRefused(string seed)
    {
        var bytes = Seed(seed);
        Check($"{seed}, truncated", Enumerable.Range(0, bytes.Length).Select(n => ($"first {n} bytes", bytes[..n])));
    }

    [Theory]
    [MemberData(nameof(SeedNames))]
    public void EveryFlippedBitIsReadOrRefused(string seed)
    {
        var bytes = Seed(seed);
        Check($"{seed}, one bit flipped", Enumerable.Range(0, bytes.Length * 8).Select(bit =>
        {
            var damaged = (byte[])bytes.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            return ($"bit {bit}", damaged);
        }));
    }

    /// <summary>Values that make lengths and counts lie when written as varints or raw bytes.</summary>
    private static readonly ulong[] Lies = { 0, 1, 2, 127, 128, 255, 0x7FFF_FFFF, 0xFFFF_FFFF, 1_000_000_000, 1UL << 40, ulong.MaxValue };

    [Theory]
    [MemberData(nameof(SeedNames))]
    public void RandomRewritesAreReadOrRefused(string seed)
    {
        var bytes = Seed(seed);
        var random = new Random(seed.Length * 7919);
        Check($"{seed}, rewritten", Enumerable.Range(0, 1500).Select(trial =>
        {
            var damaged = new List<byte>(bytes);
            var edits = new List<string>();
            for (var m = random.Next(1, 4); m > 0 && damaged.Count > 0; m--)
            {
                var at = random.Next(damaged.Count);
                switch (random.Next(5))
                {
                    case 0:
                        damaged[at] = (byte)random.Next(256);
                        edits.Add($"byte {at} = {damaged[at]}");
                        break;
                    case 1:
                        var lie = Lies[random.Next(Lies.Length)];
                        var varint = Varint(lie);
                        damaged.RemoveRange(at, Math.Min(varint.Length, damaged.Count - at));
                        damaged.InsertRange(at, varint);
                        edits.Add($"varint {lie} at {at}");
                        break;
                    case 2:
                        var count = Math.Min(random.Next(1, 16), damaged.Count - at);
                        damaged.RemoveRange(at, count);
                        edits.Add($"{count} bytes deleted at {at}");
                        break;
                    case 3:
                        var length = Math.Min(random.Next(1, 32), damaged.Count - at);
                        damaged.InsertRange(at, damaged.GetRange(at, length));
                        edits.Add($"{length} bytes repeated at {at}");
                        break;
                    default:
                        damaged.RemoveRange(at, damaged.Count - at);
                        edits.Add($"cut at {at}");
                        break;
                }
            }

            return ($"trial {trial} ({string.Join(", ", edits)})", damaged.ToArray());
        }));
    }

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
        return bytes.ToArray();
    }

    // ----- the same, structurally: every initializer, every node, every element type -----

    private static Proto.ModelProto Parsed(string seed) => Proto.ModelProto.Parser.ParseFrom(Seed(seed));

    private static TException RefusedAs<TException>(Proto.ModelProto model)
        where TException : Exception
    {
        var bytes = model.ToByteArray();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<TException>(() => OnnxNetwork.LoadContents<double>(new MemoryStream(bytes)));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated <= (BytesPerInputByte * bytes.Length) + Slack, $"refusing {bytes.Length:N0} bytes allocated {allocated:N0}");
        return e;
    }

    [Theory]
    [MemberData(nameof(SeedNames))]
    public void RemovingAnyInitializerIsReportedAsMissing(string seed)
    {
        var names = Parsed(seed).Graph.Initializer.Select(i => i.Name).ToArray();
        Assert.NotEmpty(names);
        foreach (var name in names)
        {
            var model = Parsed(seed);
            model.Graph.Initializer.Remove(model.Graph.Initializer.Single(i => i.Name == name));
            if (model.Graph.Input.FirstOrDefault(i => i.Name == name) is { } listed)
            {
                model.Graph.Input.Remove(listed);
            }

            var e = RefusedAs<InvalidDataException>(model);
            Assert.Contains($"reads '{name}', which no graph input, initializer or node defines", e.Message);
        }
    }

    [Theory]
    [MemberData(nameof(SeedNames))]
    public void ReadingAnyLaterOrOwnOutputIsACycle(string seed)
    {
        var count = Parsed(seed).Graph.Node.Count;
        for (var reader = 0; reader < count; reader++)
        {
            for (var producer = reader; producer < count; producer++)
            {
                var model = Parsed(seed);
                if (model.Graph.Node[reader].Input.Count == 0)
                {
                    continue;
                }

                model.Graph.Node[reader].Input[0] = model.Graph.Node[producer].Output[0];
                var e = RefusedAs<InvalidDataException>(model);
                Assert.Contains($"node {reader + 1} ", e.Message);
                Assert.Contains($"before node {producer + 1} produces it", e.Message);
            }
        }
    }

    [Theory]
    [MemberData(nameof(SeedNames))]
    public void AnyInitializerOfTheWrongElementTypeIsRefused(string seed)
    {
        var names = Parsed(seed).Graph.Initializer.Select(i => i.Name).ToArray();
        foreach (var name in names)
        {
            foreach (var type in new[] { DataType.Float, DataType.Double, DataType.Int64, DataType.Int32, DataType.Float16, DataType.Bool, DataType.Undefined })
            {
                var model = Parsed(seed);
                var tensor = model.Graph.Initializer.Single(i => i.Name == name);
                if (tensor.DataType == (int)type)
                {
                    continue;
                }

                tensor.DataType = (int)type;
                var e = RefusedAs<InvalidDataException>(model);
                Assert.Contains($"'{name}'", e.Message);
            }
        }
    }

    [Theory]
    [MemberData(nameof(SeedNames))]
    public void AnyInitializerClaimingABillionElementsIsRefusedBeforeAllocating(string seed)
    {
        var names = Parsed(seed).Graph.Initializer.Select(i => i.Name).ToArray();
        foreach (var name in names)
        {
            var model = Parsed(seed);
            var dims = model.Graph.Initializer.Single(i => i.Name == name).Dims;
            var others = dims.Skip(1).Aggregate(1L, (product, d) => product * d);
            if (dims.Count == 0)
            {
                dims.Add(1_000_000_000);
            }
            else
            {
                dims[0] = 1_000_000_000 / Math.Max(1, others);
            }

            var bytes = model.ToByteArray();
            var before = GC.GetAllocatedBytesForCurrentThread();
            var e = Record.Exception(() => OnnxNetwork.LoadContents<double>(new MemoryStream(bytes)));
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(e is InvalidDataException or NotSupportedException, $"{name} claiming [{string.Join(", ", dims)}]: {e?.ToString() ?? "loaded"}");
            Assert.True(allocated <= (BytesPerInputByte * bytes.Length) + Slack, $"{name} claiming [{string.Join(", ", dims)}]: refusing {bytes.Length:N0} bytes allocated {allocated:N0}");
        }
    }
}
