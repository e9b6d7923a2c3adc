using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using FunctionalBackprop.Onnx;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Fuzz;

/// <summary>An input made a reader break its contract: not a refusal it documents.</summary>
internal sealed class ContractViolation(string message) : Exception(message);

/// <summary>
/// The fuzz targets. The contract each enforces: the reader returns a value that is usable, or
/// refuses with InvalidDataException (FormatException for CSV text; also NotSupportedException for
/// an ONNX graph that is valid but not a network the library models); any other exception is a bug. Memory allocated while reading is bounded by what the input justifies (a small multiple of
/// its length, or of its length times deflate's largest ratio for gzip data), so a header that
/// lies about a size cannot make the reader allocate for it.
/// </summary>
internal static class Targets
{
    /// <summary>The targets by name.</summary>
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> ByName = new Dictionary<string, Action<byte[]>>
    {
        ["model"] = Model,
        ["idx"] = Idx,
        ["csv"] = Csv,
        ["onnx"] = Onnx,
        ["selfcheck"] = SelfCheck,
    };

    /// <summary>
    /// Checks the pipeline rather than the library: an input holding "!!" throws, so
    /// `fuzz/run.sh 20 selfcheck` must report a crash (and does, within seconds, from the seed "hi!").
    /// </summary>
    private static void SelfCheck(byte[] input)
    {
        // Through instrumented code first, or afl-fuzz sees no coverage at all.
        Read<FormatException>("Csv.parse", long.MaxValue, () => Core.Csv.parse(Core.Csv.defaults, new StringReader(Encoding.UTF8.GetString(input))));
        if (input.AsSpan().IndexOf("!!"u8) >= 0)
        {
            throw new ContractViolation("selfcheck: the input holds \"!!\"");
        }
    }

    /// <summary>Bytes a reader may allocate beyond the multiple of its input: buffers, tables, small objects.</summary>
    private const long Slack = 1L << 20;

    /// <summary>Deflate's largest compression ratio (a 258-byte match in about two bits), about 1032 : 1.</summary>
    private const long DeflateRatio = 1032;

    /// <summary>Runs a read, accepting the documented refusal, and checks its allocation.</summary>
    private static void Read<TRefusal>(string what, long allowedBytes, Action read)
        where TRefusal : Exception =>
        Read(what, allowedBytes, read, typeof(TRefusal));

    /// <summary>Runs a read, accepting any of the documented refusals (exactly those types), and checks its allocation.</summary>
    private static void Read(string what, long allowedBytes, Action read, params Type[] refusals)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            read();
        }
        catch (Exception e) when (refusals.Contains(e.GetType()))
        {
            if (string.IsNullOrWhiteSpace(e.Message))
            {
                throw new ContractViolation($"{what}: {e.GetType().Name} without a message");
            }
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > allowedBytes)
        {
            throw new ContractViolation($"{what}: allocated {allocated:N0} bytes, more than the {allowedBytes:N0} its input justifies");
        }
    }

    // ----- model files -----

    /// <summary>
    /// The model loader, through the facade: a network as float64 and float32, and a training
    /// checkpoint; each once as given and once with the CRC-32 in the last four bytes recomputed,
    /// so mutations reach past the checksum into what the loader builds from the content.
    /// </summary>
    private static void Model(byte[] input)
    {
        LoadModel(input);
        if (input.Length >= 4)
        {
            var fixedUp = (byte[])input.Clone();
            BitConverter.TryWriteBytes(fixedUp.AsSpan(fixedUp.Length - 4), Crc32(fixedUp.AsSpan(0, fixedUp.Length - 4)));
            if (!BitConverter.IsLittleEndian)
            {
                fixedUp.AsSpan(fixedUp.Length - 4).Reverse();
            }

            LoadModel(fixedUp);
        }
    }

    private static void LoadModel(byte[] bytes)
    {
        // The loader reads the file into one array, then builds arrays of the parameters it holds.
        var allowed = 8L * bytes.Length + Slack;
        NeuralNetwork<double>? network64 = null;
        NeuralNetwork<float>? network32 = null;
        TrainingCheckpoint<double>? checkpoint = null;
        Read<InvalidDataException>("NeuralNetwork<double>.Load", allowed, () => network64 = NeuralNetwork<double>.Load(new MemoryStream(bytes, writable: false)));
        Read<InvalidDataException>("NeuralNetwork<float>.Load", allowed, () => network32 = NeuralNetwork<float>.Load(new MemoryStream(bytes, writable: false)));
        Read<InvalidDataException>("TrainingCheckpoint<double>.Load", allowed, () => checkpoint = TrainingCheckpoint<double>.Load(new MemoryStream(bytes, writable: false)));
        if (network64 is not null)
        {
            Usable(network64);
        }

        if (network32 is not null)
        {
            Usable(network32);
        }

        if (checkpoint is not null)
        {
            Usable(checkpoint.Network);
            using var saved = new MemoryStream();
            checkpoint.Save(saved);
            var again = TrainingCheckpoint<double>.Load(new MemoryStream(saved.ToArray()));
            if (again.Epoch != checkpoint.Epoch || again.Step != checkpoint.Step || again.OptimizerName != checkpoint.OptimizerName)
            {
                throw new ContractViolation("a loaded checkpoint saved and loaded again is not the same checkpoint");
            }
        }
    }

    /// <summary>A loaded network predicts (or reports an overflow) and saves back to a file that loads to the same bits.</summary>
    private static void Usable<T>(NeuralNetwork<T> network)
        where T : System.Numerics.IFloatingPointIeee754<T>
    {
        try
        {
            var output = network.Predict(new T[network.InputWidth]);
            if (output.Length != network.OutputWidth)
            {
                throw new ContractViolation($"a loaded network's output has {output.Length} values, not its output width {network.OutputWidth}");
            }
        }
        catch (OverflowException)
        {
            // Finite weights can still overflow T; the facade says so, which is its contract.
        }
        catch (ArgumentException e) when (network.Scaler is { } scaler && e.Message.Contains($"which the {scaler} maps to", StringComparison.Ordinal))
        {
            // A valid scaler can map an input beyond T's range (a flipped bit makes a scale 1e-300);
            // Predict then names the input and what it became, which is its contract.
        }

        using var saved = new MemoryStream();
        network.Save(saved);
        var first = saved.ToArray();
        using var again = new MemoryStream();
        NeuralNetwork<T>.Load(new MemoryStream(first)).Save(again);
        if (!first.AsSpan().SequenceEqual(again.ToArray()))
        {
            throw new ContractViolation("a loaded network saved, loaded and saved again changed");
        }
    }

    /// <summary>CRC-32 (IEEE, reflected 0xEDB88320), written here rather than taken from the library it checks.</summary>
    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }

    // ----- ONNX models -----

    /// <summary>
    /// Bytes the ONNX reader may allocate per byte of input: protobuf's object model costs a few
    /// hundred bytes per message and an empty message takes two bytes; decoded parameters cost a
    /// few times their bytes (the matrix, its transpose, the float64 copy).
    /// </summary>
    private const long OnnxBytesPerInputByte = 512;

    /// <summary>
    /// The ONNX reader (FunctionalBackprop.Onnx): the bytes loaded as a float32 and as a float64
    /// network with its scaler, through OnnxNetwork.LoadContents (which the facade's OnnxModel.Load
    /// wraps). A refusal must be InvalidDataException or NotSupportedException; a loaded network
    /// must run (when its layers are small enough, see <see cref="RunnableValues"/>), and export
    /// to ONNX and to the model format and load back from both to the same bits, its running
    /// statistics and its scaler included.
    /// </summary>
    private static void Onnx(byte[] input)
    {
        var allowed = (OnnxBytesPerInputByte * input.Length) + Slack;
        Core.ModelContents<float>? contents32 = null;
        Core.ModelContents<double>? contents64 = null;
        Read("OnnxNetwork.LoadContents<float>", allowed, () => contents32 = OnnxNetwork.LoadContents<float>(new MemoryStream(input, writable: false)), typeof(InvalidDataException), typeof(NotSupportedException));
        Read("OnnxNetwork.LoadContents<double>", allowed, () => contents64 = OnnxNetwork.LoadContents<double>(new MemoryStream(input, writable: false)), typeof(InvalidDataException), typeof(NotSupportedException));
        if (contents32 is not null)
        {
            Loaded(contents32);
        }

        if (contents64 is not null)
        {
            Loaded(contents64);
        }
    }

    /// <summary>
    /// The values one example of a layer may hold for a loaded network to be run. A valid file may
    /// declare images of any size up to the core's 2³⁰ values, and its forward pass then needs the
    /// memory to match: that is the network's, not the reader's, so larger networks are not run.
    /// </summary>
    private const int RunnableValues = 1 << 16;

    /// <summary>A loaded network runs (if small enough), and exports to ONNX and to the model format, each loading back to the same network.</summary>
    private static void Loaded<T>(Core.ModelContents<T> contents)
        where T : System.Numerics.IFloatingPointIeee754<T>
    {
        var network = contents.Network;
        if (network.Shapes.All(s => s.Size <= RunnableValues))
        {
            var output = Core.Forward.run(network, Core.Matrix.ofColumnMajor(network.InputWidth, 1, new T[network.InputWidth]));
            if (output.Rows != network.OutputWidth)
            {
                throw new ContractViolation($"a loaded network's output has {output.Rows} values, not its output width {network.OutputWidth}");
            }
        }

        // A softmax over a whole image is written only before opset 13.
        var imageSoftmax = network.Layers.Zip(network.Shapes.Skip(1)).Any(l => Core.Layer.activation(l.First).IsSoftmax && l.Second is Core.Shape.Image);
        using var exported = new MemoryStream();
        OnnxNetwork.Save(contents, exported, imageSoftmax ? new OnnxExportOptions { Opset = 12 } : null);
        Same("an ONNX network exported and loaded again", contents, OnnxNetwork.LoadContents<T>(new MemoryStream(exported.ToArray())));

        using var saved = new MemoryStream();
        Core.ModelFile.write(saved, contents);
        Same("an ONNX network saved in the model format and loaded again", contents, Core.ModelFile.read<T>(new MemoryStream(saved.ToArray())));
    }

    /// <summary>Throws unless the two hold the same layers, parameters, running statistics and scaler, bit for bit.</summary>
    private static void Same<T>(string what, Core.ModelContents<T> before, Core.ModelContents<T> after)
        where T : System.Numerics.IFloatingPointIeee754<T>
    {
        static T[] Values(Core.Network<T> n) => Core.Parameters.toArray(n).Concat(n.State.SelectMany(m => m.ToArray())).ToArray();
        if (!before.Network.Layers.Select(Core.Layer.spec).SequenceEqual(after.Network.Layers.Select(Core.Layer.spec)) || !before.Network.InputShape.Equals(after.Network.InputShape))
        {
            throw new ContractViolation($"{what} changed its layers: {before.Network} became {after.Network}");
        }

        if (!Values(before.Network).SequenceEqual(Values(after.Network)))
        {
            throw new ContractViolation($"{what} changed its parameters or running statistics");
        }

        var (s, t) = (before.Scaler?.Value, after.Scaler?.Value);
        if ((s is null) != (t is null) || (s is not null && (!s.Kind.Equals(t!.Kind) || !s.Offsets.SequenceEqual(t.Offsets) || !s.Scales.SequenceEqual(t.Scales))))
        {
            throw new ContractViolation($"{what} changed its scaler: {s?.ToString() ?? "none"} became {t?.ToString() ?? "none"}");
        }
    }

    // ----- IDX files -----

    /// <summary>
    /// The IDX reader on a seekable stream (whose length is checked before the data is allocated)
    /// and on one that cannot seek (whose data is collected as it arrives); gzip input takes the
    /// second path either way. A result's data length must equal its dimensions' product.
    /// </summary>
    private static void Idx(byte[] input)
    {
        var compressed = input.Length >= 2 && input[0] == 0x1F && input[1] == 0x8B;
        var allowed = 4L * input.Length * (compressed ? DeflateRatio : 1) + Slack;
        Read<InvalidDataException>("Idx.readFrom (seekable)", allowed, () => CheckIdx(Core.Idx.readFrom("fuzz.idx", new MemoryStream(input, writable: false))));
        Read<InvalidDataException>("Idx.readFrom (not seekable)", allowed, () => CheckIdx(Core.Idx.readFrom("fuzz.idx", new ForwardOnly(input))));
    }

    private static void CheckIdx(Core.IdxArray array)
    {
        var count = array.Dimensions.Aggregate(1L, (total, d) => total * d);
        if (array.Dimensions.Any(d => d < 0) || count != array.Values.LongLength)
        {
            throw new ContractViolation($"an IDX array of shape {string.Join(" × ", array.Dimensions)} holds {array.Values.LongLength} values");
        }
    }

    /// <summary>A stream that only reads forward, in small pieces, like a pipe.</summary>
    private sealed class ForwardOnly(byte[] bytes) : Stream
    {
        private int position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, 7919), bytes.Length - position);
            Array.Copy(bytes, position, buffer, offset, n);
            position += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    // ----- CSV files -----

    private static readonly string CsvFile = Path.Combine(Path.GetTempPath(), $"fbp-fuzz-{Environment.ProcessId}.csv");

    /// <summary>
    /// The CSV reader: the core parser under two dialects (comma with a header, semicolon without,
    /// label first) and its label conversions (classes found or counted, numeric targets), then the facade's classification (as float, so
    /// numbers beyond its range are met) and regression loaders on the same text as a UTF-8 file.
    /// Every refusal must be a FormatException.
    /// </summary>
    private static void Csv(byte[] input)
    {
        var allowed = 64L * input.Length + Slack;
        var text = Encoding.UTF8.GetString(input);
        var dialects = new[]
        {
            Core.Csv.defaults,
            new Core.CsvOptions(';', false, Core.TargetColumns.NewIndices(Microsoft.FSharp.Collections.ListModule.OfSeq(new[] { 0 }))),
        };
        foreach (var options in dialects)
        {
            Core.CsvTable? table = null;
            Read<FormatException>("Csv.parse", allowed, () => table = Core.Csv.parse(options, new StringReader(text)));
            if (table is not null)
            {
                if (table.Features.Any(row => row.Length != table.FeatureNames.Length) || table.Targets.Length != table.Features.Length || table.Lines.Length != table.Features.Length)
                {
                    throw new ContractViolation("a parsed table's rows do not match its header");
                }

                Read<FormatException>("Csv.classes", allowed, () => Core.Csv.classes(Core.ClassSet.Inferred, table));
                Read<FormatException>("Csv.classes with a count", allowed, () => Core.Csv.classes(Core.ClassSet.NewCount(10), table));
                Read<FormatException>("Csv.numericTargets", allowed, () => Core.Csv.numericTargets(table));
            }
        }

        File.WriteAllBytes(CsvFile, input);
        try
        {
            Read<FormatException>("CsvData.LoadClassification<float>", allowed, () => CsvData.LoadClassification<float>(CsvFile));
            Read<FormatException>("CsvData.LoadRegression<double>", allowed, () => CsvData.LoadRegression<double>(CsvFile, hasHeader: false, separator: ';'));
        }
        finally
        {
            File.Delete(CsvFile);
        }
    }
}
