using System.Collections.Immutable;
using System.Linq;
using System.Numerics;
using Core = FunctionalBackprop.Core;
using Proto = global::Onnx;

namespace FunctionalBackprop.Onnx.Import;

/// <summary>
/// What the reader knows about one named value of the graph while it walks the nodes in order: a
/// constant, something it cannot model, or the data flowing from the input x.
/// </summary>
internal abstract record Value;

/// <summary>A constant tensor: an initializer or a Constant node's value.</summary>
/// <param name="Tensor">Its tensor, decoded only when a node needs its values.</param>
/// <param name="Origin">"initializer 'fc1.weight'" or "the Constant of node 3", for messages.</param>
internal sealed record ConstantValue(Proto.TensorProto Tensor, string Origin) : Value;

/// <summary>
/// A value that is neither the data nor a constant: one the reader does not model (Dropout's mask),
/// or one of the steps by which PyTorch computes the data's batch size for a reshape, which only the
/// next step of that computation reads. Any other node that reads it is refused.
/// </summary>
/// <param name="What">What it is, for the message.</param>
internal record UnmodelledValue(string What) : Value;

/// <summary>Shape(a): the data's shape [batch, d₁, …] as it runs, of which only the batch size is read.</summary>
internal sealed record DataShape(string What) : UnmodelledValue(What);

/// <summary>Gather(Shape(a), 0): the batch size, a scalar (PyTorch's x.size(0)).</summary>
internal sealed record BatchSize(string What) : UnmodelledValue(What);

/// <summary>Unsqueeze(batch size, [0]): the list [batch].</summary>
internal sealed record BatchList(string What) : UnmodelledValue(What);

/// <summary>Concat([batch], dims…): a target shape [batch, dims…] for a Reshape that keeps each example in a row (PyTorch's x.view(x.size(0), −1)).</summary>
/// <param name="Dims">The dims after the batch.</param>
/// <param name="What">What it is, for the message.</param>
internal sealed record BatchTarget(long[] Dims, string What) : UnmodelledValue(What);

/// <summary>
/// The data: x after its scaler (if any) and the layers completed so far, and where the current
/// layer (or the scaler) stands.
/// </summary>
/// <param name="Layers">The layers completed, input side first.</param>
/// <param name="Stage">Where the current layer, or the input's scaler, stands.</param>
/// <param name="ExampleShape">One example's dims (the tensor's shape without the batch axis); null when unknown, −1 for an unknown dim.</param>
/// <param name="Scaler">The scaler x went through before the first layer; null when none.</param>
/// <param name="InputShape">One example's dims where the first layer started (the network's input); null until then, [−1] when unknown.</param>
internal sealed record DataValue<T>(ImmutableList<Core.Layer<T>> Layers, Stage<T> Stage, long[]? ExampleShape, Core.Scaler? Scaler = null, long[]? InputShape = null) : Value
    where T : IFloatingPointIeee754<T>
{
    /// <summary>One example's width when the tensor is [batch, width] (−1 if that width is unknown); null for other ranks.</summary>
    public long? Width => ExampleShape is null ? -1 : ExampleShape.Length == 1 ? ExampleShape[0] : null;

    /// <summary>One example's channels, height and width when the tensor is [batch, C, H, W] with every dim known; null otherwise.</summary>
    public (long Channels, long Height, long Width)? Image =>
        ExampleShape is { Length: 3 } dims && dims.All(d => d > 0) ? (dims[0], dims[1], dims[2]) : null;

    /// <summary>The data as a layer starts on it: the network's input shape noted if this is the first layer.</summary>
    public DataValue<T> Starting() =>
        Layers.IsEmpty && Stage is not Open<T> ? this with { InputShape = ExampleShape ?? new long[] { -1 } } : this;

    /// <summary>The data after the layer, whose output has one example's dims <paramref name="outputShape"/>.</summary>
    public DataValue<T> Then(Core.Layer<T> layer, long[]? outputShape) =>
        Starting() with { Layers = Layers.Add(layer), Stage = Features<T>.Instance, ExampleShape = outputShape };
}

/// <summary>Where the current layer stands.</summary>
internal abstract record Stage<T>
    where T : IFloatingPointIeee754<T>;

/// <summary>No layer is open: this is x, or a completed layer's output a = σ(z).</summary>
internal sealed record Features<T> : Stage<T>
    where T : IFloatingPointIeee754<T>
{
    /// <summary>The one instance (the stage carries nothing).</summary>
    public static Features<T> Instance { get; } = new();
}

/// <summary>A layer's weighted input z, waiting for its activation σ (the layer has identity σ if none comes).</summary>
/// <param name="Node">The node that computed z, for messages.</param>
internal abstract record Open<T>(string Node) : Stage<T>
    where T : IFloatingPointIeee754<T>
{
    /// <summary>The layer, completed with σ.</summary>
    public abstract Core.Layer<T> Close(Core.Activation activation);
}

/// <summary>z = W a + b of a dense layer.</summary>
/// <param name="Weights">W, units × inputs.</param>
/// <param name="Biases">b, one per unit; null until an Add supplies them after a MatMul (zeros if none does).</param>
/// <param name="Node">The node that multiplied by W, for messages.</param>
internal sealed record Weighted<T>(Core.Matrix<T> Weights, T[]? Biases, string Node) : Open<T>(Node)
    where T : IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public override Core.Layer<T> Close(Core.Activation activation)
    {
        var units = Weights.Rows;
        var biases = Core.Matrix.ofColumnMajor(units, 1, Biases ?? new T[units]);
        return Core.Layer<T>.NewDense(Core.Dense.create(Weights, biases, activation));
    }
}

/// <summary>z = W ⋆ a + b of a convolution layer.</summary>
/// <param name="Kernels">W, filters × C·kₕ·k_w (filter o in row o, in c, i, j order).</param>
/// <param name="Biases">b, filters × 1.</param>
/// <param name="Kernel">kₕ × k_w.</param>
/// <param name="Stride">The stride.</param>
/// <param name="Padding">The zero rows and columns on each side.</param>
/// <param name="Node">The Conv node, for messages.</param>
internal sealed record Convolved<T>(Core.Matrix<T> Kernels, Core.Matrix<T> Biases, Core.Window Kernel, Core.Window Stride, Core.Window Padding, string Node) : Open<T>(Node)
    where T : IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public override Core.Layer<T> Close(Core.Activation activation) =>
        Core.Layer<T>.NewConv2D(Core.Conv2D.create(activation, Kernels, Biases, Kernel, Stride, Padding));
}

/// <summary>
/// Pad(a, zeros) on an image: rows and columns of zeros around each channel, which the Conv or
/// AveragePool that reads it takes as its own padding (older opsets write PyTorch's padded average
/// pooling as this Pad then an AveragePool).
/// </summary>
/// <param name="Pads">The rows and columns added: top, left, bottom, right.</param>
internal sealed record Padded<T>(long[] Pads) : Stage<T>
    where T : IFloatingPointIeee754<T>;

/// <summary>Greater(z, 0): a boolean tensor that a Cast to T turns into the step activation.</summary>
/// <param name="Z">What was compared: a layer's weighted input (<see cref="Open{T}"/>), or a completed output (<see cref="Features{T}"/>) that an activation layer takes.</param>
internal sealed record Compared<T>(Stage<T> Z) : Stage<T>
    where T : IFloatingPointIeee754<T>;

/// <summary>Mul(z, α): half of the leaky ReLU max(z, α·z).</summary>
/// <param name="Z">What was scaled: a layer's weighted input (<see cref="Open{T}"/>), or a completed output (<see cref="Features{T}"/>) that an activation layer takes (compared by reference with Max's other operand).</param>
/// <param name="Slope">α, as the library's activation holds it.</param>
internal sealed record Scaled<T>(Stage<T> Z, double Slope) : Stage<T>
    where T : IFloatingPointIeee754<T>;

/// <summary>
/// Cast(x, DOUBLE) in a FLOAT graph: the input in float64, exactly, where its scaler computes
/// (x − offset)/scale as the library does before rounding once to float32.
/// </summary>
internal sealed record Widened<T> : Stage<T>
    where T : IFloatingPointIeee754<T>
{
    /// <summary>The one instance (the stage carries nothing).</summary>
    public static Widened<T> Instance { get; } = new();
}

/// <summary>Sub(x, offset): the first half of the input's scaler (x − offset)/scale.</summary>
/// <param name="Offsets">offsetᵢ, one per feature.</param>
/// <param name="Wide">True in a FLOAT graph, where x was widened to float64 and a Cast back to FLOAT follows the Div.</param>
internal sealed record Centred<T>(double[] Offsets, bool Wide) : Stage<T>
    where T : IFloatingPointIeee754<T>;

/// <summary>Div(x − offset, scale) in float64 in a FLOAT graph: the scaled input, waiting for its Cast to FLOAT.</summary>
/// <param name="Scaler">The scaler read.</param>
internal sealed record Rescaled<T>(Core.Scaler Scaler) : Stage<T>
    where T : IFloatingPointIeee754<T>;
