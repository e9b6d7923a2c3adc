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

    /// <summary>A 2-D convolution, then its activation (<see cref="NetworkBuilder.Conv2D"/>).</summary>
    Conv2D,

    /// <summary>Max pooling (<see cref="NetworkBuilder.MaxPool2D"/>).</summary>
    MaxPool2D,

    /// <summary>Average pooling (<see cref="NetworkBuilder.AvgPool2D"/>).</summary>
    AvgPool2D,

    /// <summary>An image's values as a vector (<see cref="NetworkBuilder.Flatten"/>).</summary>
    Flatten,

    /// <summary>Batch normalisation (<see cref="NetworkBuilder.BatchNorm"/>).</summary>
    BatchNorm,
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
/// <c>.Dense(30, Activation.ReLU)</c>, bit for bit. Networks on images start from
/// <see cref="NeuralNetwork.Create(int, int, int)"/>:
/// <code>
/// var lenet = NeuralNetwork.Create(channels: 1, height: 28, width: 28)
///     .Conv2D(6, kernel: 5, padding: 2, activation: Activation.ReLU)
///     .MaxPool2D(2)
///     .Conv2D(16, kernel: 5, activation: Activation.ReLU)
///     .MaxPool2D(2)
///     .Flatten()
///     .Dense(120, Activation.ReLU)
///     .Dense(84, Activation.ReLU)
///     .Dense(10, Activation.Softmax)
///     .Build(seed: 1);
/// </code>
/// Immutable: each call returns a new builder, so a builder can be shared and extended safely.
/// </summary>
public sealed class NetworkBuilder
{
    private readonly ImmutableList<Core.LayerSpec> layers;
    private readonly int inputWidth;

    /// <summary>A builder for networks whose inputs have <paramref name="inputWidth"/> values (<see cref="NeuralNetwork.Create(int)"/>).</summary>
    /// <param name="inputWidth">Checked (at least 1) when the network is built.</param>
    internal NetworkBuilder(int inputWidth)
        : this(inputWidth, null, ImmutableList<Core.LayerSpec>.Empty)
    {
    }

    /// <summary>A builder for networks on images of the given shape (<see cref="NeuralNetwork.Create(int, int, int)"/>).</summary>
    /// <param name="image">Checked (each dimension at least 1) when the network is built.</param>
    internal NetworkBuilder(ImageShape image)
        : this(0, image, ImmutableList<Core.LayerSpec>.Empty)
    {
    }

    private NetworkBuilder(int inputWidth, ImageShape? image, ImmutableList<Core.LayerSpec> layers)
    {
        this.inputWidth = inputWidth;
        InputImage = image;
        this.layers = layers;
    }

    /// <summary>The number of values in an input example (an image's channels · height · width).</summary>
    public int InputWidth => InputImage is { } image ? (int)Math.Min(image.Size, int.MaxValue) : inputWidth;

    /// <summary>The shape of an input example when it is an image; null for vectors.</summary>
    public ImageShape? InputImage { get; }

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
        return Add(Core.LayerSpec.NewDense(units, (activation ?? FunctionalBackprop.Activation.Identity).ToCore(), CheckedInitializer(initializer)));
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

    /// <summary>
    /// Adds a 2-D convolution, then its activation: filter o of C × kernel weights slides over the
    /// input image (zero-padded by <paramref name="padding"/> on each side) in steps of
    /// <paramref name="stride"/>, z[o, y, x] = b[o] + Σ w[o, c, i, j]·a[c, y·s + i − p, x·s + j − p]
    /// (PyTorch's <c>nn.Conv2d</c>, one group, no dilation). The output has
    /// <paramref name="filters"/> channels of ⌊(H + 2p − k)/s⌋ + 1 rows, and likewise columns.
    /// </summary>
    /// <param name="filters">Output channels, at least 1.</param>
    /// <param name="kernel">Each filter's height and width (an int for a square), at least 1.</param>
    /// <param name="stride">The step between windows, at least 1; 1 when null.</param>
    /// <param name="padding">The zero rows and columns added on each side, at least 0; none when null.</param>
    /// <param name="activation">σ for the layer; none (the identity) when null.</param>
    /// <param name="initializer">How its first weights are drawn, by fan-in C·kₕ·k_w (and fan-out filters·kₕ·k_w); by default as for <see cref="Dense"/>.</param>
    /// <returns>A new builder with the layer added.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the exception names it.</exception>
    public NetworkBuilder Conv2D(int filters, Size2D kernel, Size2D? stride = null, Size2D? padding = null, Activation? activation = null, Initializer? initializer = null)
    {
        var init = CheckedInitializer(initializer);
        var step = stride ?? 1;
        var pad = padding ?? 0;
        if (filters < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(filters), filters, $"A convolution needs at least one filter, got {filters}.");
        }

        CheckWindow(nameof(kernel), kernel, 1, "kernel");
        CheckWindow(nameof(stride), step, 1, "stride");
        CheckWindow(nameof(padding), pad, 0, "padding");
        return Add(Core.LayerSpec.NewConv2D(filters, kernel.ToCore(), step.ToCore(), pad.ToCore(), (activation ?? FunctionalBackprop.Activation.Identity).ToCore(), init));
    }

    /// <summary>
    /// Adds max pooling: each output is the largest value of its window, channel by channel
    /// (PyTorch's <c>nn.MaxPool2d</c>). Its gradient goes to the window's first largest value in
    /// row-major order, as PyTorch routes it, so ties are deterministic.
    /// </summary>
    /// <param name="kernel">The window's height and width (an int for a square), at least 1.</param>
    /// <param name="stride">The step between windows; the kernel when null (PyTorch's default).</param>
    /// <param name="padding">−∞ rows and columns added on each side, at most half the kernel; none when null.</param>
    /// <returns>A new builder with the layer added.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the exception names it.</exception>
    public NetworkBuilder MaxPool2D(Size2D kernel, Size2D? stride = null, Size2D? padding = null) =>
        Pool(kernel, stride, padding, (k, s, p) => Core.LayerSpec.NewMaxPool2D(k, s, p));

    /// <summary>
    /// Adds average pooling: each output is the mean of its window, channel by channel, the zero
    /// padding counted in the divisor (PyTorch's <c>nn.AvgPool2d</c> with its default
    /// <c>count_include_pad=True</c>).
    /// </summary>
    /// <param name="kernel">The window's height and width (an int for a square), at least 1.</param>
    /// <param name="stride">The step between windows; the kernel when null (PyTorch's default).</param>
    /// <param name="padding">Zero rows and columns added on each side, at most half the kernel; none when null.</param>
    /// <returns>A new builder with the layer added.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the exception names it.</exception>
    public NetworkBuilder AvgPool2D(Size2D kernel, Size2D? stride = null, Size2D? padding = null) =>
        Pool(kernel, stride, padding, (k, s, p) => Core.LayerSpec.NewAvgPool2D(k, s, p));

    /// <summary>Adds a flatten layer: an image's C·H·W values as a vector, in the same order (PyTorch's <c>nn.Flatten</c>). Dense layers also take images directly, as their values in that order.</summary>
    /// <returns>A new builder with the layer added.</returns>
    public NetworkBuilder Flatten() => Add(Core.LayerSpec.Flatten);

    /// <summary>
    /// Adds batch normalisation over channels (images) or units (vectors):
    /// z = γ·(x − μ)/√(σ² + ε) + β, with learnable γ (starting at 1) and β (at 0). In training
    /// (<c>Fit</c>, or a <see cref="TrainingMode"/>) μ and σ² are the batch's, and the running
    /// mean and variance (unbiased) move towards them by <paramref name="momentum"/> at each step;
    /// everywhere else (Predict, Evaluate, export) the running ones are used, as PyTorch's
    /// <c>nn.BatchNorm2d</c> and <c>nn.BatchNorm1d</c> do. With shards (<see cref="FitOptions{T}.Shards"/>)
    /// or distributed workers, each shard normalises by its own examples' statistics, as PyTorch's
    /// data-parallel training does without SyncBatchNorm, and the running statistics take the
    /// whole batch's.
    /// </summary>
    /// <param name="momentum">How far the running statistics move at each step, in [0, 1]; PyTorch's default 0.1.</param>
    /// <param name="epsilon">Added to the variance, positive; PyTorch's default 10⁻⁵.</param>
    /// <returns>A new builder with the layer added.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the exception names it.</exception>
    public NetworkBuilder BatchNorm(double momentum = 0.1, double epsilon = 1e-5)
    {
        if (Core.BatchNorm.settingsProblem(momentum, epsilon) is { } why)
        {
            var momentumFits = momentum >= 0 && momentum <= 1;
            throw new ArgumentOutOfRangeException(momentumFits ? nameof(epsilon) : nameof(momentum), momentumFits ? epsilon : momentum, why.Value);
        }

        return Add(Core.LayerSpec.NewBatchNorm(momentum, epsilon));
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
        var input = InputShape();

        if (layers.Count == 0)
        {
            throw new ArgumentException("The network has no layers: add at least one with Dense(…).");
        }

        var shape = input;
        for (var i = 0; i < layers.Count; i++)
        {
            if (Core.LayerSpecModule.problem(layers[i]) is { } why)
            {
                throw new ArgumentException($"Layer {i + 1}: {why.Value}");
            }

            if (Core.LayerSpecModule.inputProblem(layers[i], shape) is not null)
            {
                break;      // the core's init names the layer and the shape it cannot take
            }

            shape = Core.LayerSpecModule.outputShape(layers[i], shape);
            if (Core.ActivationModule.widthProblem(Core.LayerSpecModule.activation(layers[i]), shape.Size) is { } narrow)
            {
                throw new ArgumentException($"Layer {i + 1} ({Core.LayerSpecModule.kind(layers[i])}, {Core.Wording.count(shape.Size, "unit")}): {narrow.Value} In C#: .Dense(1, Activation.Sigmoid) or .Dense(2, Activation.Softmax) for two classes, .Dense(1) for a number.");
            }
        }

        return new NeuralNetwork<T>(Core.Network.init<T>(unchecked((ulong)seed), input, WithDefaultInitializers(layers)));
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

    /// <summary>"784-30-10 builder", or for images "1×28×28-6×28×28-… builder" (each layer's output shape, as far as the layers fit).</summary>
    public override string ToString()
    {
        var shape = InputImage is { } image ? Core.Shape.NewImage(image.Channels, image.Height, image.Width) : Core.Shape.NewVector(InputWidth);
        var shapes = new List<string> { shape.ToString() };
        foreach (var spec in layers)
        {
            if (Core.LayerSpecModule.problem(spec) is not null || Core.LayerSpecModule.inputProblem(spec, shape) is not null)
            {
                shapes.Add("?");
                break;
            }

            shape = Core.LayerSpecModule.outputShape(spec, shape);
            shapes.Add(shape.ToString());
        }

        return $"{string.Join("-", shapes)} builder";
    }

    /// <summary>The facade's description of layer <paramref name="index"/> (from 0) of a core network.</summary>
    internal static LayerInfo Describe<T>(Core.Network<T> network, int index)
        where T : IFloatingPointIeee754<T>
    {
        var layer = network.Layers[index];
        var kind = Enum.Parse<LayerKind>(Core.Layer.kind(layer), ignoreCase: true);
        var input = network.Shapes[index];
        var output = network.Shapes[index + 1];
        return new LayerInfo(kind, input.Size, output.Size, FunctionalBackprop.Activation.FromCore(Core.Layer.activation(layer)), layer.ToString())
        {
            InputImage = ImageShape.FromCore(input),
            OutputImage = ImageShape.FromCore(output),
        };
    }

    private static Microsoft.FSharp.Core.FSharpOption<Core.Initializer>? CheckedInitializer(Initializer? initializer) =>
        initializer switch
        {
            null => null,
            { } chosen when !Enum.IsDefined(chosen) => throw new ArgumentOutOfRangeException(nameof(initializer), chosen, $"{chosen} is not an initializer."),
            { } chosen => Microsoft.FSharp.Core.FSharpOption<Core.Initializer>.Some(chosen.ToCore()),
        };

    private static void CheckWindow(string name, Size2D window, int least, string what)
    {
        if (window.Height < least || window.Width < least)
        {
            throw new ArgumentOutOfRangeException(name, window, $"A {what} must be at least {least}×{least}, got {window}.");
        }
    }

    private NetworkBuilder Pool(Size2D kernel, Size2D? stride, Size2D? padding, Func<Core.Window, Core.Window, Core.Window, Core.LayerSpec> make)
    {
        var step = stride ?? kernel;
        var pad = padding ?? 0;
        CheckWindow(nameof(kernel), kernel, 1, "kernel");
        CheckWindow(nameof(stride), step, 1, "stride");
        CheckWindow(nameof(padding), pad, 0, "padding");
        var spec = make(kernel.ToCore(), step.ToCore(), pad.ToCore());
        if (Core.LayerSpecModule.problem(spec) is { } why)
        {
            throw new ArgumentOutOfRangeException(nameof(padding), pad, why.Value);
        }

        return Add(spec);
    }

    /// <summary>The core's input shape, checked, naming the caller's parameters.</summary>
    private Core.Shape InputShape()
    {
        if (InputImage is { } image)
        {
            return image.ToCore("channels", "height", "width");
        }

        if (inputWidth < 1)
        {
            throw new ArgumentOutOfRangeException("inputWidth", inputWidth, $"The input width must be at least 1, got {inputWidth}.");
        }

        return Core.Shape.NewVector(inputWidth);
    }

    private NetworkBuilder Add(Core.LayerSpec spec) => new(inputWidth, InputImage, layers.Add(spec));
}
