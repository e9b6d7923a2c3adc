using System;
using System.Numerics;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>
/// Buffers for a network's gradient on batches of one size, reused call after call so that
/// <see cref="NeuralNetwork{T}.ComputeGradients(T[][], T[][], GradientBuffer{T}, Loss?, TrainingMode?)"/>
/// allocates nothing after its first call: for training loops of one's own and repeated
/// gradient checks. Each call writes over the previous results; copy what must outlive the next
/// call. Use one buffer per thread.
/// </summary>
/// <typeparam name="T">The network's real type, double or float.</typeparam>
public sealed class GradientBuffer<T>
    where T : IFloatingPointIeee754<T>
{
    private readonly Core.Network<T> network;

    /// <summary>Buffers for <paramref name="network"/>'s shapes (or any network of the same shapes) and batches of <paramref name="batchSize"/> examples.</summary>
    /// <param name="network">The network whose layer widths the buffers take.</param>
    /// <param name="batchSize">Examples per batch, at least 1.</param>
    public GradientBuffer(NeuralNetwork<T> network, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        CoreBuffer = new Core.GradientBuffer<T>(network.CoreNetwork, batchSize);
        this.network = network.CoreNetwork;
        Inputs = Core.Matrix.zeros<T>(network.InputWidth, batchSize);
        Targets = Core.Matrix.zeros<T>(network.OutputWidth, batchSize);
    }

    /// <summary>The number of examples per batch the buffer was made for.</summary>
    public int BatchSize => CoreBuffer.BatchSize;

    /// <summary>The mean cost of the last batch.</summary>
    public double Loss { get; internal set; } = double.NaN;

    internal Core.GradientBuffer<T> CoreBuffer { get; }

    internal Core.Matrix<T> Inputs { get; }

    internal Core.Matrix<T> Targets { get; }

    /// <summary>
    /// ∂C/∂w of layer <paramref name="layer"/> from the last call, in column-major order: the entry
    /// for unit j and input k (the weight's [j, k]) is at j + k × (the layer's units). A view of
    /// the buffer's own array, written over by the next call.
    /// </summary>
    /// <param name="layer">The layer, from 0.</param>
    /// <exception cref="ArgumentException">The layer has no weights (an activation or dropout layer).</exception>
    public ReadOnlySpan<T> GetWeightGradient(int layer) => Tensor(layer, "weight", "weights").AsSpan();

    /// <summary>∂C/∂b of layer <paramref name="layer"/> from the last call, one entry per unit; written over by the next call.</summary>
    /// <param name="layer">The layer, from 0.</param>
    /// <exception cref="ArgumentException">The layer has no biases (an activation or dropout layer).</exception>
    public ReadOnlySpan<T> GetBiasGradient(int layer) => Tensor(layer, "bias", "biases").AsSpan();

    private Core.Matrix<T> Tensor(int layer, string name, string plural)
    {
        var layers = CoreBuffer.Gradient.Layers;
        if (layer < 0 || layer >= layers.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The network has layers 0 … {layers.Length - 1}.");
        }

        return Core.Parameters.tensorIndex(network, layer, name) is { } k
            ? layers[layer].Tensors[k.Value]
            : throw new ArgumentException($"Layer {layer} ({Core.Layer.kind(network.Layers[layer])}) has no {plural}.", nameof(layer));
    }
}
