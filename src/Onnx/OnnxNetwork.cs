using System;
using System.IO;
using System.Numerics;
using FunctionalBackprop.Onnx.Export;
using FunctionalBackprop.Onnx.Import;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Onnx;

/// <summary>
/// ONNX export and import for the F# core's <see cref="Core.Network{T}"/>: the same files as
/// <see cref="OnnxModel"/>. From F#: <c>OnnxNetwork.Save(network, "model.onnx")</c> and
/// <c>let network: Network&lt;float&gt; = OnnxNetwork.Load "model.onnx"</c>.
/// </summary>
public static class OnnxNetwork
{
    /// <summary>Saves the network as an ONNX model, atomically (a temporary file renamed over <paramref name="path"/>).</summary>
    /// <param name="network">The network.</param>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="options">Opset and IR version; <see cref="OnnxExportOptions.Default"/> (13 and 7) when null.</param>
    /// <exception cref="ArgumentException">The options' IR version is older than their opset.</exception>
    /// <exception cref="NotSupportedException">The parameters take more than the 2 GB a protobuf message holds.</exception>
    public static void Save<T>(Core.Network<T> network, string path, OnnxExportOptions? options = null)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(path);
        var checkedOptions = options ?? OnnxExportOptions.Default;
        checkedOptions.Check();
        ModelStorage.SaveAtomically(path, stream => OnnxWriter.Write(network, stream, checkedOptions));
    }

    /// <summary>Writes the network to a stream as an ONNX model.</summary>
    /// <param name="network">The network.</param>
    /// <param name="stream">A writable stream; left open.</param>
    /// <param name="options">Opset and IR version; <see cref="OnnxExportOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">The options' IR version is older than their opset.</exception>
    /// <exception cref="NotSupportedException">The parameters take more than the 2 GB a protobuf message holds.</exception>
    public static void Save<T>(Core.Network<T> network, Stream stream, OnnxExportOptions? options = null)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        OnnxWriter.Write(network, stream, options ?? OnnxExportOptions.Default);
    }

    /// <summary>
    /// Loads a dense network from an ONNX model (see <see cref="OnnxModel"/> for what is accepted).
    /// A float32 file loads as float64 by widening every parameter exactly.
    /// </summary>
    /// <param name="path">The .onnx file.</param>
    /// <exception cref="InvalidDataException">The file is not a valid ONNX model, or holds float64 and T is float32.</exception>
    /// <exception cref="NotSupportedException">The model is valid but is not a dense network this library models; the message names the node and its operator.</exception>
    public static Core.Network<T> Load<T>(string path)
        where T : IFloatingPointIeee754<T> =>
        ModelStorage.Read(path, Load<T>);

    /// <summary>Reads a dense network from an ONNX model in a stream.</summary>
    /// <param name="stream">A readable stream; read to its end and left open.</param>
    /// <exception cref="InvalidDataException">The content is not a valid ONNX model, or holds float64 and T is float32.</exception>
    /// <exception cref="NotSupportedException">The model is valid but is not a dense network this library models.</exception>
    public static Core.Network<T> Load<T>(Stream stream)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        return OnnxReader.Read<T>(stream);
    }
}
