using System;
using System.IO;
using System.Numerics;
using FunctionalBackprop.Onnx.Export;
using FunctionalBackprop.Onnx.Import;
using Microsoft.FSharp.Core;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Onnx;

/// <summary>
/// ONNX export and import for the F# core's <see cref="Core.Network{T}"/>, and for its
/// <see cref="Core.ModelContents{T}"/> (a network with the <see cref="Core.Scaler"/> its inputs go
/// through): the same files as <see cref="OnnxModel"/>. From F#: <c>OnnxNetwork.Save(network, "model.onnx")</c>
/// and <c>let network: Network&lt;float&gt; = OnnxNetwork.Load "model.onnx"</c>.
/// </summary>
public static class OnnxNetwork
{
    /// <summary>Saves the network as an ONNX model, atomically (a temporary file renamed over <paramref name="path"/>).</summary>
    /// <param name="network">The network.</param>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="options">Opset and IR version; <see cref="OnnxExportOptions.Default"/> (13 and 7) when null.</param>
    /// <exception cref="ArgumentException">The options' IR version is older than their opset.</exception>
    /// <exception cref="NotSupportedException">The parameters take more than the 2 GB a protobuf message holds, or a layer has no ONNX form at the options' opset (a softmax over a whole image, which ONNX writes only before opset 13).</exception>
    public static void Save<T>(Core.Network<T> network, string path, OnnxExportOptions? options = null)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        Save(network, null, null, path, options);
    }

    /// <summary>Writes the network to a stream as an ONNX model.</summary>
    /// <param name="network">The network.</param>
    /// <param name="stream">A writable stream; left open.</param>
    /// <param name="options">Opset and IR version; <see cref="OnnxExportOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">The options' IR version is older than their opset.</exception>
    /// <exception cref="NotSupportedException">The parameters take more than the 2 GB a protobuf message holds, or a layer has no ONNX form at the options' opset (a softmax over a whole image, which ONNX writes only before opset 13).</exception>
    public static void Save<T>(Core.Network<T> network, Stream stream, OnnxExportOptions? options = null)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        Save(network, null, null, stream, options);
    }

    /// <summary>
    /// Saves the network and its scalers as an ONNX model that takes raw inputs and gives outputs
    /// in the targets' units, atomically. The scaler becomes Sub and Div nodes before the first
    /// layer, computed in float64 as <c>Scaler.apply</c> computes it; the target scaler's inverse
    /// Mul and Add nodes after the last layer, as <c>Scaler.inverse</c> computes it. The training
    /// state, if any, is not written: an ONNX model holds what prediction needs.
    /// </summary>
    /// <param name="contents">The network and its scalers (<c>ModelContents.ofNetwork</c> for none).</param>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="options">Opset and IR version; <see cref="OnnxExportOptions.Default"/> (13 and 7) when null.</param>
    /// <exception cref="ArgumentException">The options' IR version is older than their opset, or the scaler maps another number of features than the network takes.</exception>
    /// <exception cref="NotSupportedException">The parameters take more than the 2 GB a protobuf message holds, or a layer has no ONNX form at the options' opset (a softmax over a whole image, which ONNX writes only before opset 13).</exception>
    public static void Save<T>(Core.ModelContents<T> contents, string path, OnnxExportOptions? options = null)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(contents);
        Save(contents.Network, Value(contents.Scaler), Value(contents.TargetScaler), path, options);
    }

    /// <summary>Writes the network and its scaler to a stream as an ONNX model that takes raw inputs (see <see cref="Save{T}(Core.ModelContents{T}, string, OnnxExportOptions?)"/>).</summary>
    /// <param name="contents">The network and its scaler.</param>
    /// <param name="stream">A writable stream; left open.</param>
    /// <param name="options">Opset and IR version; <see cref="OnnxExportOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">The options' IR version is older than their opset, or the scaler maps another number of features than the network takes.</exception>
    /// <exception cref="NotSupportedException">The parameters take more than the 2 GB a protobuf message holds, or a layer has no ONNX form at the options' opset (a softmax over a whole image, which ONNX writes only before opset 13).</exception>
    public static void Save<T>(Core.ModelContents<T> contents, Stream stream, OnnxExportOptions? options = null)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(contents);
        Save(contents.Network, Value(contents.Scaler), Value(contents.TargetScaler), stream, options);
    }

    /// <summary>
    /// Loads a network from an ONNX model (see <see cref="OnnxModel"/> for what is accepted).
    /// A float32 file loads as float64 by widening every parameter exactly.
    /// </summary>
    /// <param name="path">The .onnx file.</param>
    /// <exception cref="InvalidDataException">The file is not a valid ONNX model, or holds float64 and T is float32.</exception>
    /// <exception cref="NotSupportedException">The model is valid but is not a network this library models (the message names the node and its operator), or it scales its inputs first, which a network alone cannot hold: load it with <see cref="LoadContents{T}(string)"/>.</exception>
    public static Core.Network<T> Load<T>(string path)
        where T : IFloatingPointIeee754<T> =>
        ModelStorage.Read(path, Load<T>);

    /// <summary>Reads a network from an ONNX model in a stream (see <see cref="Load{T}(string)"/>).</summary>
    /// <param name="stream">A readable stream; read to its end and left open.</param>
    /// <exception cref="InvalidDataException">The content is not a valid ONNX model, or holds float64 and T is float32.</exception>
    /// <exception cref="NotSupportedException">The model is valid but is not a network this library models, or it scales its inputs first: read it with <see cref="LoadContents{T}(Stream)"/>.</exception>
    public static Core.Network<T> Load<T>(Stream stream)
        where T : IFloatingPointIeee754<T>
    {
        var contents = LoadContents<T>(stream);
        if (Value(contents.Scaler) is { } scaler)
        {
            throw new NotSupportedException(
                $"The model's inputs go through a {scaler} before the first layer, which a Network<'T> alone cannot hold: it would answer differently on raw inputs. " +
                "Load it with OnnxNetwork.LoadContents, which returns the network and its scaler (or with OnnxModel.Load in C#).");
        }

        if (Value(contents.TargetScaler) is { } targetScaler)
        {
            throw new NotSupportedException(
                $"The model's outputs go back through a target {targetScaler} after the last layer, which a Network<'T> alone cannot hold: it would answer in other units. " +
                "Load it with OnnxNetwork.LoadContents, which returns the network and its scalers (or with OnnxModel.Load in C#).");
        }

        return contents.Network;
    }

    /// <summary>
    /// Loads a network and the scaler its inputs go through (None when the model has none)
    /// from an ONNX model; the training state is always None. A float32 file loads as float64 by
    /// widening every parameter exactly.
    /// </summary>
    /// <param name="path">The .onnx file.</param>
    /// <exception cref="InvalidDataException">The file is not a valid ONNX model, or holds float64 and T is float32.</exception>
    /// <exception cref="NotSupportedException">The model is valid but is not a network this library models; the message names the node and its operator.</exception>
    public static Core.ModelContents<T> LoadContents<T>(string path)
        where T : IFloatingPointIeee754<T> =>
        ModelStorage.Read(path, LoadContents<T>);

    /// <summary>Reads a network and its input's scaler from an ONNX model in a stream (see <see cref="LoadContents{T}(string)"/>).</summary>
    /// <param name="stream">A readable stream; read to its end and left open.</param>
    /// <exception cref="InvalidDataException">The content is not a valid ONNX model, or holds float64 and T is float32.</exception>
    /// <exception cref="NotSupportedException">The model is valid but is not a network this library models.</exception>
    public static Core.ModelContents<T> LoadContents<T>(Stream stream)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        return OnnxReader.Read<T>(stream);
    }

    /// <summary>Saves the network, the scaler its inputs go through and the target scaler its outputs go back through (null for none), atomically.</summary>
    internal static void Save<T>(Core.Network<T> network, Core.Scaler? scaler, Core.Scaler? targetScaler, string path, OnnxExportOptions? options)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(path);
        var checkedOptions = options ?? OnnxExportOptions.Default;
        checkedOptions.Check();
        ModelStorage.SaveAtomically(path, stream => OnnxWriter.Write(network, scaler, targetScaler, stream, checkedOptions));
    }

    /// <summary>Writes the network and its scalers (null for none) to the stream.</summary>
    internal static void Save<T>(Core.Network<T> network, Core.Scaler? scaler, Core.Scaler? targetScaler, Stream stream, OnnxExportOptions? options)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        OnnxWriter.Write(network, scaler, targetScaler, stream, options ?? OnnxExportOptions.Default);
    }

    private static Core.Scaler? Value(FSharpOption<Core.Scaler>? scaler) =>
        FSharpOption<Core.Scaler>.get_IsSome(scaler) ? scaler!.Value : null;
}
