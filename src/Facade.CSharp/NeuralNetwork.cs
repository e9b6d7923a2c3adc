using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>Entry points that need no real type: building networks.</summary>
public static class NeuralNetwork
{
    /// <summary>
    /// Starts describing a network whose inputs have <paramref name="inputWidth"/> values: the one
    /// way to make a network.
    /// <code>
    /// var network = NeuralNetwork.Create(inputWidth: 784)
    ///     .Dense(30, Activation.ReLU)
    ///     .Dense(10, Activation.Softmax)
    ///     .Build(seed: 42);
    /// </code>
    /// </summary>
    /// <param name="inputWidth">At least 1 (checked when the network is built).</param>
    public static NetworkBuilder Create(int inputWidth) => new(inputWidth);

    /// <summary>
    /// Starts describing a network on images of <paramref name="channels"/> ×
    /// <paramref name="height"/> × <paramref name="width"/> values, stored in C-H-W order inside each
    /// example (as PyTorch and ONNX store them; <see cref="Mnist.Load{T}(string)"/> gives 1 × 28 × 28):
    /// convolution and pooling layers take them as images, a dense layer as their values in order.
    /// <code>
    /// var network = NeuralNetwork.Create(channels: 1, height: 28, width: 28)
    ///     .Conv2D(6, kernel: 5, padding: 2, activation: Activation.ReLU)
    ///     .MaxPool2D(2)
    ///     .Flatten()
    ///     .Dense(10, Activation.Softmax)
    ///     .Build(seed: 42);
    /// </code>
    /// </summary>
    /// <param name="channels">At least 1 (checked when the network is built).</param>
    /// <param name="height">Rows, at least 1.</param>
    /// <param name="width">Columns, at least 1.</param>
    public static NetworkBuilder Create(int channels, int height, int width) => new(new ImageShape(channels, height, width));

    internal static void CheckRealType<T>()
    {
        if (typeof(T) != typeof(double) && typeof(T) != typeof(float))
        {
            throw new NotSupportedException($"Networks are made of double or float, not {typeof(T).Name}.");
        }
    }
}

/// <summary>
/// A trained or freshly built feed-forward network, with the <see cref="Scaler"/> its inputs go
/// through and the <see cref="TargetScaler"/> its outputs come back through, if it has them.
/// Immutable: <see cref="Fit(Dataset{T}, FitOptions{T}?, IProgress{EpochReport}?, System.Threading.CancellationToken)"/>,
/// <see cref="WithScaler"/> and <see cref="WithTargetScaler"/> return a new network and leave this
/// one as it was, so a network can be shared between threads freely.
/// </summary>
/// <remarks>
/// Training reports its progress synchronously on the training thread (the caller's for Fit, a
/// thread-pool thread for FitAsync) before it goes on. Beware <see cref="Progress{T}"/>: it posts each
/// report to the synchronization context it captured, which in a console app or a library is the
/// thread pool, so its reports arrive late, out of order, even after Fit has returned.
/// <see cref="TrainingProgress"/> (or any IProgress of your own) reports in step with training.
/// </remarks>
/// <typeparam name="T">The real type of its parameters: double or float.</typeparam>
public sealed partial class NeuralNetwork<T>
    where T : IFloatingPointIeee754<T>
{
    /// <summary>A network over a core network, without scalers.</summary>
    internal NeuralNetwork(Core.Network<T> core)
        : this(core, null, null)
    {
    }

    /// <summary>
    /// A network over a core network whose raw inputs go through <paramref name="scaler"/> first
    /// and whose outputs go back through <paramref name="targetScaler"/>'s inverse.
    /// </summary>
    internal NeuralNetwork(Core.Network<T> core, Scaler? scaler, Scaler? targetScaler)
    {
        CoreNetwork = core;
        Scaler = scaler;
        TargetScaler = targetScaler;
        Layers = Enumerable.Range(0, core.Depth).Select(i => NetworkBuilder.Describe(core, i)).ToArray();
    }

    /// <summary>The width of an input example (an image's channels · height · width).</summary>
    public int InputWidth => CoreNetwork.InputWidth;

    /// <summary>The shape of an input example when it is an image (<see cref="NeuralNetwork.Create(int, int, int)"/>); null for vectors.</summary>
    public ImageShape? InputImage => ImageShape.FromCore(CoreNetwork.InputShape);

    /// <summary>The width of the output.</summary>
    public int OutputWidth => CoreNetwork.OutputWidth;

    /// <summary>The number of weights and biases.</summary>
    public int ParameterCount => CoreNetwork.ParameterCount;

    /// <summary>The layers, input side first.</summary>
    public IReadOnlyList<LayerInfo> Layers { get; }

    /// <summary>
    /// Whether the outputs are class scores (a sigmoid, softmax or step output layer): then
    /// <see cref="Classify(T[][])"/> gives the arg-max (or, for one output, output ≥ ½) and
    /// <see cref="EvaluateClassifier(Dataset{T}, Loss?)"/> the accuracy.
    /// </summary>
    public bool IsClassifier => Core.Network.isClassifier(CoreNetwork);

    /// <summary>
    /// The loss that training and evaluation use when none is given, chosen by the output layer:
    /// cross-entropy for softmax, binary cross-entropy for sigmoid (each output a yes/no decision),
    /// quadratic for identity and every other activation.
    /// </summary>
    public Loss DefaultLoss => CoreConvert.FromCore(Core.Network.defaultLoss(CoreNetwork));

    /// <summary>The scaler raw inputs go through before the first layer, or null when inputs are used as given.</summary>
    public Scaler? Scaler { get; }

    /// <summary>
    /// The scaler fitted on the training targets, or null when the network learns the targets as
    /// given. With one, the network learns the scaled targets y′ = (y − offset)/scale, and
    /// Predict returns its outputs through the inverse, ŷ = a·scale + offset, in the targets' own
    /// units. <see cref="Fit(Dataset{T}, FitOptions{T}?, IProgress{EpochReport}?, System.Threading.CancellationToken)"/>
    /// fits a standard one when the network has none and its output layer gives any real value
    /// (identity, leaky ReLU), unless <see cref="FitOptions{T}.TargetScaling"/> says not to.
    /// </summary>
    public Scaler? TargetScaler { get; }

    internal Core.Network<T> CoreNetwork { get; }

    /// <summary>
    /// The same network taking raw inputs through <paramref name="scaler"/>: Predict, Classify,
    /// Evaluate and Fit scale every input they are given, and Save keeps the scaler, so a loaded
    /// network answers raw inputs exactly as this one does.
    /// </summary>
    /// <param name="scaler">Fitted on training inputs of <see cref="InputWidth"/> values; null for none.</param>
    /// <exception cref="ArgumentException">The scaler maps another number of features.</exception>
    public NeuralNetwork<T> WithScaler(Scaler? scaler)
    {
        if (scaler is not null && scaler.Width != InputWidth)
        {
            throw new ArgumentException($"The network takes inputs of {Core.Wording.count(InputWidth, "value")}, but the {scaler} was fitted on {Core.Wording.count(scaler.Width, "value")}.", nameof(scaler));
        }

        return new NeuralNetwork<T>(CoreNetwork, scaler, TargetScaler);
    }

    /// <summary>
    /// The same network learning and predicting targets through <paramref name="targetScaler"/>:
    /// Fit, Evaluate and ComputeGradients scale every target they are given, Predict returns
    /// outputs in the targets' units, and Save and the ONNX export keep the scaler. Fit sets one by
    /// itself (<see cref="FitOptions{T}.TargetScaling"/>); this is for a scaler of your own, such as
    /// <c>Scaler.FitMinMax(training.GetTargets())</c>.
    /// </summary>
    /// <param name="targetScaler">Fitted on training targets of <see cref="OutputWidth"/> values; null for none.</param>
    /// <exception cref="ArgumentException">The scaler maps another number of values, or the network is a classifier, whose outputs are class scores.</exception>
    public NeuralNetwork<T> WithTargetScaler(Scaler? targetScaler)
    {
        if (targetScaler is not null && targetScaler.Width != OutputWidth)
        {
            throw new ArgumentException($"The network gives outputs of {Core.Wording.count(OutputWidth, "value")}, but the {targetScaler} was fitted on {Core.Wording.count(targetScaler.Width, "value")}.", nameof(targetScaler));
        }

        if (targetScaler is not null && IsClassifier)
        {
            throw new ArgumentException($"The output layer is {Layers[^1]}: its outputs are class scores, which a target scaler would move off their range. Scale the targets of a regression network, whose output layer has no activation (Dense(units)).", nameof(targetScaler));
        }

        return new NeuralNetwork<T>(CoreNetwork, Scaler, targetScaler);
    }

    /// <summary>The same scalers over another core network of the same shapes (a trained one).</summary>
    internal NeuralNetwork<T> WithCore(Core.Network<T> core) => new(core, Scaler, TargetScaler);

    /// <summary>Layer <paramref name="index"/>'s weights as [unit, input] (Nielsen's wⱼₖ), copied.</summary>
    /// <param name="index">The layer, from 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">There is no such layer.</exception>
    /// <exception cref="ArgumentException">The layer has no weights (an activation or dropout layer).</exception>
    public T[,] GetWeights(int index) => Core.Matrix.toArray2D(Parameter(index, "weight", "weights"));

    /// <summary>Layer <paramref name="index"/>'s biases, copied.</summary>
    /// <param name="index">The layer, from 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">There is no such layer.</exception>
    /// <exception cref="ArgumentException">The layer has no biases (an activation or dropout layer).</exception>
    public T[] GetBiases(int index) => Parameter(index, "bias", "biases").ToArray();

    /// <summary>"784-30-10 (sigmoid, sigmoid) float64", and the scalers if there are any.</summary>
    public override string ToString() =>
        CoreNetwork.ToString() + (Scaler is null ? string.Empty : $" after a {Scaler}") + (TargetScaler is null ? string.Empty : $", its targets through a {TargetScaler}");

    /// <summary>The parameter tensor of layer <paramref name="index"/> with the core's name <paramref name="name"/>.</summary>
    private Core.Matrix<T> Parameter(int index, string name, string plural)
    {
        if (index < 0 || index >= Layers.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The network has layers 0 … {Layers.Count - 1}.");
        }

        return Core.Parameters.tensorIndex(CoreNetwork, index, name) is { } k
            ? Core.Layer.parameters(CoreNetwork.Layers[index])[k.Value]
            : throw new ArgumentException($"Layer {index} ({Layers[index]}) has no {plural}.", nameof(index));
    }

    /// <summary>What the first layer takes, for messages: "The network takes inputs of 784 values (layer 1's fan-in)", or of images their shape.</summary>
    internal string Takes => InputImage is { } image
        ? $"The network takes {image} images ({InputWidth} values each, channel by channel, row by row)"
        : $"The network takes inputs of {Core.Wording.count(InputWidth, "value")} (layer 1's fan-in)";

    /// <summary>Throws ArgumentException, naming <paramref name="name"/>, when a data set of images has another image shape than the network takes.</summary>
    internal void CheckImages(Dataset<T> data, string name)
    {
        if (data.InputImage is { } given && InputImage is { } expected && given != expected)
        {
            throw new ArgumentException($"The network takes {expected} images (channels × height × width), but {name} holds {given} images: the same {InputWidth} values in another shape.", name);
        }
    }

    /// <summary>Raw inputs (checked finite) as the first layer takes them: of the input width, through the scaler if any.</summary>
    private Core.Matrix<T> Prepare(Core.Matrix<T> raw, Naming naming)
    {
        if (Scaler is not null)
        {
            return Scaler.Apply(raw, naming);
        }

        Entries.CheckWidth(raw, InputWidth, naming, Takes);
        return raw;
    }

    /// <summary>Raw targets (of the output width, checked finite) as the output layer learns them: through the target scaler if any.</summary>
    private Core.Matrix<T> Learned(Core.Matrix<T> raw, Naming naming) => TargetScaler is null ? raw : TargetScaler.Apply(raw, naming);

    /// <summary>The output layer's activations in the targets' units: through the target scaler's inverse if any.</summary>
    private Core.Matrix<T> Unscaled(Core.Matrix<T> outputs) => TargetScaler is null ? outputs : Core.ScalerModule.inverse(TargetScaler.CoreScaler, outputs);
}
