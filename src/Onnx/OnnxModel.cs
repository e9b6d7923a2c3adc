using System;
using System.IO;
using System.Numerics;
using FunctionalBackprop.Onnx.Export;
using FunctionalBackprop.Onnx.Import;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Onnx;

/// <summary>
/// Saving a <see cref="NeuralNetwork{T}"/> as an ONNX model that ONNX Runtime (and any other ONNX
/// consumer) runs, and loading the dense and convolutional networks that PyTorch, tf2onnx and this library export.
/// </summary>
/// <remarks>
/// <para>
/// A saved model has one input <c>x</c> of shape [batch, inputs] — [batch, C, H, W] for a network on
/// images, each example's values in C-H-W order — (the batch is symbolic) and one output <c>y</c>, in
/// FLOAT for <c>NeuralNetwork&lt;float&gt;</c> and DOUBLE for <c>NeuralNetwork&lt;double&gt;</c>. A
/// dense layer is a Gemm (z = x·Wᵀ + b, W stored [units, inputs] as
/// <see cref="NeuralNetwork{T}.GetWeights(int)"/> gives it) followed by its activation: Sigmoid, Tanh,
/// Relu, Softmax over each example, LeakyRelu (float32; in float64, where ONNX Runtime has no
/// LeakyRelu kernel, the exact equivalent Max(z, Mul(z, α))), the step as Cast(Greater(z, 0)), and no
/// node for the identity. A convolution is a Conv (W [filters, C, kₕ, k_w], PyTorch's layout) and its
/// activation; max and average pooling are MaxPool and AveragePool (the padding counted in each
/// mean); flatten is Flatten; batch normalisation is BatchNormalization in inference with its running
/// statistics. A network's <see cref="NeuralNetwork{T}.Scaler"/> comes first, as Sub and Div nodes
/// computed in float64 as the library computes it (in a float32 file between a Cast of x to DOUBLE
/// and a Cast back to FLOAT), so the file, like the network, takes raw inputs; the model's metadata
/// property FunctionalBackprop.scaler names its kind. By default the file declares opset 13 and IR
/// version 7 (see <see cref="OnnxExportOptions"/>).
/// </para>
/// <para>
/// Loading accepts opsets 9–21 and IR versions 3–14: per layer a Gemm (either transB), or a MatMul
/// and an Add of the bias, or a Conv (one group, no dilation), and one of those activations;
/// MaxPool and AveragePool (floor rounding; a Pad of zeros before an AveragePool or a Conv is read
/// as its padding); BatchNormalization in inference; with Flatten, Reshape to [−1, n], Identity,
/// inference-mode Dropout and Constant around them, and an input scaler in the form the exporter
/// writes it, which becomes the loaded network's scaler. Anything else (a grouped or dilated
/// convolution, a second input, a branch, an operator not listed, a scaler computed in float32 or of
/// no stated kind) is refused with an exception that names the node and its operator: a file is read
/// exactly or not at all.
/// </para>
/// </remarks>
public static class OnnxModel
{
    /// <summary>
    /// Saves the network, with its scalers if it has them, as an ONNX model that takes raw inputs
    /// and gives outputs in the targets' units.
    /// The file is written under a temporary name and then renamed over <paramref name="path"/>, so
    /// a failure leaves the old file (if any) intact.
    /// </summary>
    /// <param name="network">The network.</param>
    /// <param name="path">The file to create or replace, usually ending in .onnx.</param>
    /// <param name="options">Opset and IR version; <see cref="OnnxExportOptions.Default"/> (13 and 7) when null.</param>
    /// <exception cref="ArgumentException">The options' IR version is older than their opset.</exception>
    /// <exception cref="NotSupportedException">The parameters take more than the 2 GB a protobuf message holds, or a layer has no ONNX form at the options' opset (a softmax over a whole image, which ONNX writes only before opset 13).</exception>
    public static void Save<T>(NeuralNetwork<T> network, string path, OnnxExportOptions? options = null)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        OnnxNetwork.Save(network.CoreNetwork, network.Scaler?.CoreScaler, network.TargetScaler?.CoreScaler, path, options);
    }

    /// <summary>Writes the network, with its scalers if it has them, to a stream as an ONNX model.</summary>
    /// <param name="network">The network.</param>
    /// <param name="stream">A writable stream; left open.</param>
    /// <param name="options">Opset and IR version; <see cref="OnnxExportOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">The options' IR version is older than their opset.</exception>
    /// <exception cref="NotSupportedException">The parameters take more than the 2 GB a protobuf message holds, or a layer has no ONNX form at the options' opset (a softmax over a whole image, which ONNX writes only before opset 13).</exception>
    public static void Save<T>(NeuralNetwork<T> network, Stream stream, OnnxExportOptions? options = null)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        OnnxNetwork.Save(network.CoreNetwork, network.Scaler?.CoreScaler, network.TargetScaler?.CoreScaler, stream, options);
    }

    /// <summary>Saves the network as an ONNX model, atomically; the same as <see cref="Save{T}(NeuralNetwork{T}, string, OnnxExportOptions?)"/>.</summary>
    /// <param name="network">The network.</param>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="options">Opset and IR version; <see cref="OnnxExportOptions.Default"/> (13 and 7) when null.</param>
    public static void SaveOnnx<T>(this NeuralNetwork<T> network, string path, OnnxExportOptions? options = null)
        where T : IFloatingPointIeee754<T> =>
        Save(network, path, options);

    /// <summary>
    /// Loads a network, with the scaler its inputs go through if the model has one, from an
    /// ONNX model. The file's element type must be T, except that a float32 (FLOAT) file loads as
    /// double by widening every parameter exactly; the loaded network then computes in float64 and
    /// so differs from the file's float32 arithmetic in the last bits.
    /// </summary>
    /// <param name="path">The .onnx file.</param>
    /// <exception cref="InvalidDataException">The file is not a valid ONNX model (truncated, corrupt, a cycle, a missing initializer, sizes or types that disagree), or holds float64 and T is float.</exception>
    /// <exception cref="NotSupportedException">The model is valid but is not a network this library models; the message names the node and its operator.</exception>
    public static NeuralNetwork<T> Load<T>(string path)
        where T : IFloatingPointIeee754<T> =>
        NeuralNetwork<T>.FromContents(OnnxNetwork.LoadContents<T>(path));

    /// <summary>Reads a network from an ONNX model in a stream (see <see cref="Load{T}(string)"/>).</summary>
    /// <param name="stream">A readable stream; read to its end and left open.</param>
    /// <exception cref="InvalidDataException">The content is not a valid ONNX model, or holds float64 and T is float.</exception>
    /// <exception cref="NotSupportedException">The model is valid but is not a network this library models.</exception>
    public static NeuralNetwork<T> Load<T>(Stream stream)
        where T : IFloatingPointIeee754<T> =>
        NeuralNetwork<T>.FromContents(OnnxNetwork.LoadContents<T>(stream));
}
