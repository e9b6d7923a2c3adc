using System;
using System.Linq;
using System.Numerics;
using System.Reflection;
using Core = FunctionalBackprop.Core;
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
        "FunctionalBackprop reads feed-forward networks: per layer a Gemm (or MatMul + Add) or a Conv (one group, no dilation) and one activation (Relu, Sigmoid, Tanh, " +
        "Softmax over each example, LeakyRelu, Max(z, Mul(z, α)) or Greater(z, 0) + Cast); MaxPool and AveragePool (floor rounding, no dilation; " +
        "a Pad of zeros before an AveragePool or a Conv is read as its padding); BatchNormalization (inference); with Flatten, Reshape (its target constant, " +
        "or [batch, …] from Shape, Gather, Unsqueeze and Concat as PyTorch writes x.view(x.size(0), -1)), Identity, " +
        "Dropout (inference) and Constant around them, and before the first layer an input scaler (x − offset)/scale as FunctionalBackprop writes it";

    /// <summary>
    /// The model's metadata property that names the kind of the input's scaler ("min-max" or
    /// "standard"): the Sub and Div nodes hold its offsets and scales but not how they were fitted.
    /// </summary>
    public const string ScalerProperty = "FunctionalBackprop.scaler";

    /// <summary>
    /// The model's metadata property that names the kind of the target scaler whose inverse
    /// y = a·scale + offset follows the last layer ("min-max" or "standard").
    /// </summary>
    public const string TargetScalerProperty = "FunctionalBackprop.targetScaler";

    /// <summary>The value of <see cref="ScalerProperty"/> for a scaler kind.</summary>
    public static string ScalerKindName(Core.ScalerKind kind) => kind.IsMinMax ? "min-max" : "standard";

    /// <summary>The scaler kind the model's metadata names under <paramref name="property"/> (<see cref="ScalerProperty"/> by default), or null when it names none.</summary>
    /// <exception cref="System.IO.InvalidDataException">The property is set twice, or to another value.</exception>
    public static Core.ScalerKind? ScalerKindOf(Proto.ModelProto model, string property = ScalerProperty)
    {
        var named = model.MetadataProps.Where(p => p.Key == property).ToList();
        if (named.Count > 1)
        {
            throw new System.IO.InvalidDataException($"The model is not valid ONNX: its metadata property {Quote(property)} is set {named.Count} times; keys are unique.");
        }

        var scaler = property == ScalerProperty ? "the input's scaler" : "the target scaler";
        return named.Count == 0
            ? null
            : named[0].Value switch
            {
                "min-max" => Core.ScalerKind.MinMax,
                "standard" => Core.ScalerKind.Standard,
                var other => throw new System.IO.InvalidDataException($"The model's metadata property {Quote(property)} is {Quote(other)}; FunctionalBackprop writes 'min-max' or 'standard' there, the kind of {scaler}."),
            };
    }

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
