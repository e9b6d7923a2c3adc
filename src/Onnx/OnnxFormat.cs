using System;
using System.Numerics;
using System.Reflection;
using Proto = global::Onnx;

namespace FunctionalBackprop.Onnx;

/// <summary>The versions, names and element types that the writer and the reader share.</summary>
internal static class OnnxFormat
{
    /// <summary>The oldest ai.onnx opset read or written: the first with today's Gemm, Flatten and Cast.</summary>
    public const int MinimumOpset = 9;

    /// <summary>The newest ai.onnx opset read or written.</summary>
    public const int MaximumOpset = 21;

    /// <summary>The oldest IR version read (ONNX 1.0's).</summary>
    public const long MinimumIrVersion = 3;

    /// <summary>The newest IR version read: the newest the vendored onnx.proto3 defines.</summary>
    public static readonly long MaximumIrVersion = (long)Proto.Version.IrVersion;

    /// <summary>The newest IR version written: ONNX 1.16's, which ONNX Runtime has read since 1.17.</summary>
    public const long MaximumWrittenIrVersion = 10;

    /// <summary>The model's producer name in the files this library writes.</summary>
    public const string ProducerName = "FunctionalBackprop";

    /// <summary>The graph's input and output names in the files this library writes.</summary>
    public const string InputName = "x";

    /// <summary>The graph's output name in the files this library writes.</summary>
    public const string OutputName = "y";

    /// <summary>What the reader accepts, for the messages that refuse something else.</summary>
    public const string Accepted =
        "FunctionalBackprop reads dense networks: per layer a Gemm (or MatMul + Add) and one activation (Relu, Sigmoid, Tanh, " +
        "Softmax on the last axis, LeakyRelu, Max(z, Mul(z, α)) or Greater(z, 0) + Cast), with Flatten, Reshape, Identity, " +
        "Dropout (inference) and Constant around them";

    /// <summary>The library's version without build metadata, for the model's producer_version.</summary>
    public static string ProducerVersion { get; } =
        (typeof(OnnxFormat).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    /// <summary>
    /// The lowest IR version that can carry an opset: ONNX's release table (docs/Versioning.md),
    /// opset 9 came with IR 4, 10 with 5, 11 with 6, 12–14 with 7, 15–18 with 8, 19–20 with 9, 21 with 10.
    /// </summary>
    public static long MinimumIrVersionFor(int opset) => opset switch
    {
        <= 9 => 4,
        10 => 5,
        11 => 6,
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };

    /// <summary>TensorProto.DataType of T: FLOAT for float, DOUBLE for double.</summary>
    public static int ElementType<T>()
        where T : IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) ? (int)Proto.TensorProto.Types.DataType.Float : (int)Proto.TensorProto.Types.DataType.Double;

    /// <summary>"FLOAT (float32)", "INT64", … for messages.</summary>
    public static string TypeName(int elementType) => elementType switch
    {
        (int)Proto.TensorProto.Types.DataType.Float => "FLOAT (float32)",
        (int)Proto.TensorProto.Types.DataType.Double => "DOUBLE (float64)",
        (int)Proto.TensorProto.Types.DataType.Undefined => "UNDEFINED",
        _ when Enum.IsDefined(typeof(Proto.TensorProto.Types.DataType), elementType) =>
            ((Proto.TensorProto.Types.DataType)elementType).ToString().ToUpperInvariant(),
        _ => $"unknown type {elementType}",
    };

    /// <summary>A name from the file, quoted for a message: control characters escaped, long names cut.</summary>
    public static string Quote(string name)
    {
        const int longest = 80;
        var builder = new System.Text.StringBuilder("'");
        foreach (var c in name.Length > longest ? name[..longest] : name)
        {
            builder.Append(char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString());
        }

        return builder.Append(name.Length > longest ? "…'" : "'").ToString();
    }
}
