using System;
using System.IO;
using System.Linq;
using System.Numerics;
using Google.Protobuf;
using Microsoft.FSharp.Core;
using Core = FunctionalBackprop.Core;
using Proto = global::Onnx;

namespace FunctionalBackprop.Onnx.Import;

/// <summary>
/// ONNX bytes to a network and its scalers: the protobuf parsed, the model's versions and
/// metadata checked, a target scaler taken off the graph's end (<see cref="TargetScalerTail"/>), the
/// graph read by <see cref="GraphReader{T}"/> in its own element type, then
/// converted to the caller's type (float32 to float64 only: widening is exact, narrowing would
/// round every parameter; a scaler's offsets and scales are float64 either way).
/// </summary>
internal static class OnnxReader
{
    /// <summary>Reads the stream to its end and returns the network the model computes, with the scaler its input goes through.</summary>
    public static Core.ModelContents<T> Read<T>(Stream stream)
        where T : IFloatingPointIeee754<T>
    {
        NeuralNetwork.CheckRealType<T>();
        byte[] bytes;
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            bytes = copy.ToArray();
        }

        return Read<T>(bytes);
    }

    /// <summary>The network the model in the bytes computes, with the scaler its input goes through (a model holds no training state).</summary>
    public static Core.ModelContents<T> Read<T>(byte[] bytes)
        where T : IFloatingPointIeee754<T>
    {
        var model = Parse(bytes);
        var opset = CheckVersions(model);
        var whole = model.Graph ?? throw new InvalidDataException("The model is not valid ONNX: it has no graph.");
        var scalerKind = OnnxFormat.ScalerKindOf(model);
        var input = GraphInput.Find(whole);
        var (graph, targetScaler) = TargetScalerTail.Split(whole, input.ElementType, OnnxFormat.ScalerKindOf(model, OnnxFormat.TargetScalerProperty));
        Core.Network<T> network;
        Core.Scaler? scaler;
        switch (input.ElementType)
        {
            case (int)Proto.TensorProto.Types.DataType.Float:
                var (single, singleScaler) = GraphReader<float>.Read(graph, input, opset, scalerKind);
                network = typeof(T) == typeof(float) ? (Core.Network<T>)(object)single : Core.Network.convert<float, T>(single);
                scaler = singleScaler;
                break;
            case (int)Proto.TensorProto.Types.DataType.Double when typeof(T) == typeof(double):
                var (wide, wideScaler) = GraphReader<double>.Read(graph, input, opset, scalerKind);
                network = (Core.Network<T>)(object)wide;
                scaler = wideScaler;
                break;
            case (int)Proto.TensorProto.Types.DataType.Double:
                throw new InvalidDataException("The file holds a float64 (DOUBLE) network; load it as double. Loading it as float would round every parameter.");
            case (int)Proto.TensorProto.Types.DataType.Undefined:
                throw new InvalidDataException($"The model is not valid ONNX: the graph input {OnnxFormat.Quote(input.Name)} has no element type.");
            default:
                throw new NotSupportedException($"The graph input {OnnxFormat.Quote(input.Name)} holds {OnnxFormat.TypeName(input.ElementType)} values; networks are read in FLOAT (float32) and DOUBLE (float64).");
        }

        if (scalerKind is not null && scaler is null)
        {
            throw new InvalidDataException($"The model's metadata property {OnnxFormat.Quote(OnnxFormat.ScalerProperty)} names a {OnnxFormat.ScalerKindName(scalerKind)} scaler, but the graph does not scale its input x before the first layer.");
        }

        if (targetScaler is not null && targetScaler.Width != network.OutputWidth)
        {
            throw new InvalidDataException($"The model's target scaler has width {targetScaler.Width}, but its network's output has width {network.OutputWidth}.");
        }

        return new Core.ModelContents<T>(
            network,
            CoreConvert.Option(scaler),
            CoreConvert.Option(targetScaler),
            FSharpOption<Core.TrainingState<T>>.None);
    }

    /// <summary>The protobuf message, or InvalidDataException for bytes that are not one.</summary>
    private static Proto.ModelProto Parse(byte[] bytes)
    {
        try
        {
            return Proto.ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"The file is not an ONNX model (not a valid protobuf ModelProto, {bytes.Length:N0} bytes): {e.Message}", e);
        }
    }

    /// <summary>Checks the IR version and the imported opsets; returns the ai.onnx opset.</summary>
    private static int CheckVersions(Proto.ModelProto model)
    {
        if (model.IrVersion == 0)
        {
            throw new InvalidDataException("The file is not an ONNX model: it declares no IR version (an empty file, or a protobuf of another kind).");
        }

        if (model.IrVersion < OnnxFormat.MinimumIrVersion || model.IrVersion > OnnxFormat.MaximumIrVersion)
        {
            throw new NotSupportedException($"The model has IR version {model.IrVersion}; IR versions {OnnxFormat.MinimumIrVersion} to {OnnxFormat.MaximumIrVersion} are read.");
        }

        var defaults = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").ToList();
        if (defaults.Count == 0)
        {
            throw new InvalidDataException("The model is not valid ONNX: it imports no ai.onnx opset.");
        }

        if (defaults.Count > 1)
        {
            throw new InvalidDataException($"The model is not valid ONNX: it imports the ai.onnx opset {defaults.Count} times ({string.Join(", ", defaults.Select(o => o.Version))}).");
        }

        var version = defaults[0].Version;
        if (version < OnnxFormat.MinimumOpset || version > OnnxFormat.MaximumOpset)
        {
            throw new NotSupportedException($"The model imports ai.onnx opset {version}; opsets {OnnxFormat.MinimumOpset} to {OnnxFormat.MaximumOpset} are read.");
        }

        if (model.Functions.FirstOrDefault(f => f.Domain is "" or "ai.onnx") is { } function)
        {
            throw new NotSupportedException($"The model defines the function {OnnxFormat.Quote(function.Name)} in the ai.onnx domain, where it could replace a standard operator. {OnnxFormat.Accepted}.");
        }

        return (int)version;
    }
}
