using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Numerics;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>The kinds of layer a network is made of.</summary>
public enum LayerKind
{
    /// <summary>Fully connected: z = W·a + b, then its activation (<see cref="NetworkBuilder.Dense"/>).</summary>
    Dense,

    /// <summary>An activation function on its own (<see cref="NetworkBuilder.Activation"/>).</summary>
    Activation,

    /// <summary>Inverted dropout (<see cref="NetworkBuilder.Dropout"/>).</summary>
    Dropout,
}

/// <summary>
/// Describes a network layer by layer, then builds it with parameters drawn from a seed. Made by
/// <see cref="NeuralNetwork.Create(int)"/>, the one way to start a network:
/// <code>
/// var network = NeuralNetwork.Create(784)
///     .Dense(30, Activation.Sigmoid)
///     .Dense(10, Activation.Softmax)
///     .Build(seed: 42);
/// </code>
/// Activations can also be layers of their own, as PyTorch and ONNX write them:
/// <c>.Dense(30).Activation(Activation.ReLU)</c> is the same network as
/// <c>.Dense(30, Activation.ReLU)</c>, bit for bit. Immutable: each call returns a new builder,
/// so a builder can be shared and extended safely.
/// </summary>
public sealed class NetworkBuilder
{
    private readonly ImmutableList<Core.LayerSpec> layers;

    /// <summary>A builder for networks whose inputs have <paramref name="inputWidth"/> values (<see cref="NeuralNetwork.Create(int)"/>).</summary>
    /// <param name="inputWidth">Checked (at least 1) when the network is built.</param>
    internal NetworkBuilder(int inputWidth)
        : this(inputWidth, ImmutableList<Core.LayerSpec>.Empty)
    {
    }

    private NetworkBuilder(int inputWidth, ImmutableList<Core.LayerSpec> layers)
    {
        InputWidth = inputWidth;
        this.layers = layers;
    }

    /// <summary>The width of an input example.</summary>
    public int InputWidth { get; }

    /// <summary>The number of layers added so far.</summary>
    public int LayerCount => layers.Count;

    /// <summary>Adds a fully connected layer, z = W·a + b, then its activation.</summary>
    /// <param name="units">The layer's width (at least 1, checked at <see cref="Build(long)"/>).</param>
    /// <param name="activation">σ for the layer; none (the identity) when null, as for a layer followed by <see cref="Activation"/>.</param>
    /// <param name="initializer">
    /// How its first weights are drawn. By default, in a classifier (and any network whose output
    /// layer is bounded), He (normal) for ReLU and leaky ReLU and Xavier (normal) otherwise, judged
    /// by the activation the weights feed (the layer's own, or for none, that of an activation
    /// layer right after it); in a regression network, whose output layer gives any real value (no
    /// activation, or leaky ReLU), Xavier (normal) for every layer, as scikit-learn's
    /// MLPRegressor draws its weights: on small tabular sets He's larger first weights generalised
    /// worse (docs/regression.md has the measurements).
    /// </param>
    /// <returns>A new builder with the layer added.</returns>
    public NetworkBuilder Dense(int units, Activation? activation = null, Initializer? initializer = null)
    {
        if (initializer is { } chosen && !Enum.IsDefined(chosen))
        {
            throw new ArgumentOutOfRangeException(nameof(initializer), chosen, $"{chosen} is not an initializer.");
        }

        var init = initializer is { } i ? Microsoft.FSharp.Core.FSharpOption<Core.Initializer>.Some(i.ToCore()) : null;
        return Add(Core.LayerSpec.NewDense(units, (activation ?? FunctionalBackprop.Activation.Identity).ToCore(), init));
    }

    /// <summary>Adds an activation function as a layer of its own (PyTorch's <c>nn.ReLU()</c> after an <c>nn.Linear</c>).</summary>
    /// <param name="activation">σ.</param>
    /// <returns>A new builder with the layer added.</returns>
    public NetworkBuilder Activation(Activation activation)
    {
        ArgumentNullException.ThrowIfNull(activation);
        return Add(Core.LayerSpec.NewActivation(activation.ToCore()));
    }

    /// <summary>
    /// Adds inverted dropout: in training (<see cref="NeuralNetwork{T}.Fit(Dataset{T}, FitOptions{T}?, IProgress{EpochReport}?, System.Threading.CancellationToken)"/>)
    /// each value is kept with probability 1 − <paramref name="rate"/> and scaled by
    /// 1/(1 − rate), or set to 0; everywhere else (Predict, Evaluate, export) the layer passes its
    /// input through unchanged. Masks are drawn from <see cref="FitOptions{T}.Seed"/>, the step and
    /// each example's place in the epoch, so training stays reproducible bit for bit, with any
    /// number of shards.
    /// </summary>
    /// <param name="rate">The probability that a value is dropped: at least 0 and below 1.</param>
    /// <returns>A new builder with the layer added.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is outside [0, 1).</exception>
    public NetworkBuilder Dropout(double rate)
    {
        var spec = Core.LayerSpec.NewDropout(rate);
        if (Core.LayerSpecModule.problem(spec) is { } why)
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, why.Value);
        }

        return Add(spec);
    }

    /// <summary>Builds a float64 network with parameters drawn from the seed (the same seed gives the same bits on every machine).</summary>
    /// <param name="seed">Any number.</param>
    /// <exception cref="ArgumentException">A layer is invalid; the message names the layer and says why.</exception>
    public NeuralNetwork<double> Build(long seed) => Build<double>(seed);

    /// <summary>Builds a network of real type <typeparamref name="T"/> (double or float) from the seed.</summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="seed">Any number.</param>
    /// <exception cref="ArgumentException">A layer is invalid (a setting out of range, or softmax over one unit, whose output is the constant 1); the message names the layer and says why.</exception>
    public NeuralNetwork<T> Build<T>(long seed)
        where T : IFloatingPointIeee754<T>
    {
        NeuralNetwork.CheckRealType<T>();
        if (InputWidth < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(InputWidth), InputWidth, $"The input width must be at least 1, got {InputWidth}.");
        }

        if (layers.Count == 0)
        {
            throw new ArgumentException("The network has no layers: add at least one with Dense(…).");
        }

        var shape = Core.Shape.NewVector(InputWidth);
        for (var i = 0; i < layers.Count; i++)
        {
            if (Core.LayerSpecModule.problem(layers[i]) is { } why)
            {
                throw new ArgumentException($"Layer {i + 1}: {why.Value}");
            }

            shape = Core.LayerSpecModule.outputShape(layers[i], shape);
            if (Core.ActivationModule.widthProblem(Core.LayerSpecModule.activation(layers[i]), shape.Size) is { } narrow)
            {
                throw new ArgumentException($"Layer {i + 1} ({Core.LayerSpecModule.kind(layers[i])}, {Core.Wording.count(shape.Size, "unit")}): {narrow.Value} In C#: .Dense(1, Activation.Sigmoid) or .Dense(2, Activation.Softmax) for two classes, .Dense(1) for a number.");
            }
        }

        return new NeuralNetwork<T>(Core.Network.init<T>(unchecked((ulong)seed), Core.Shape.NewVector(InputWidth), WithDefaultInitializers(layers)));
    }

    /// <summary>
    /// The layers with the regression networks' default initializer, Xavier normal, where none was
    /// given, when the output layer gives any real value; as they are otherwise (the core then
    /// draws each layer's weights by the activation they feed).
    /// </summary>
    private static IEnumerable<Core.LayerSpec> WithDefaultInitializers(ImmutableList<Core.LayerSpec> layers)
    {
        if (!Core.ActivationModule.hasRealRange(Core.LayerSpecModule.activation(layers[^1])))
        {
            return layers;
        }

        var xavier = Microsoft.FSharp.Core.FSharpOption<Core.Initializer>.Some(Core.Initializer.XavierNormal);
        return layers.Select(spec => spec is Core.LayerSpec.Dense { initializer: null } dense ? Core.LayerSpec.NewDense(dense.units, dense.activation, xavier) : spec);
    }

    /// <summary>"784-30-10 builder".</summary>
    public override string ToString()
    {
        var width = Core.Shape.NewVector(InputWidth);
        var widths = new List<int> { InputWidth };
        foreach (var spec in layers)
        {
            width = Core.LayerSpecModule.outputShape(spec, width);
            widths.Add(width.Size);
        }

        return $"{string.Join("-", widths)} builder";
    }

    /// <summary>The facade's description of layer <paramref name="index"/> (from 0) of a core network.</summary>
    internal static LayerInfo Describe<T>(Core.Network<T> network, int index)
        where T : IFloatingPointIeee754<T>
    {
        var layer = network.Layers[index];
        var kind = Enum.Parse<LayerKind>(Core.Layer.kind(layer), ignoreCase: true);
        var input = network.Shapes[index].Size;
        var output = network.Shapes[index + 1].Size;
        return new LayerInfo(kind, input, output, FunctionalBackprop.Activation.FromCore(Core.Layer.activation(layer)), layer.ToString());
    }

    private NetworkBuilder Add(Core.LayerSpec spec) => new(InputWidth, layers.Add(spec));
}
