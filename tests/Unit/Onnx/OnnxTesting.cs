using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using FunctionalBackprop.Onnx;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using Microsoft.ML.OnnxRuntime;
using Xunit;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>What the ONNX tests share: generated networks and inputs, ONNX Runtime as the oracle, and the error measure.</summary>
internal static class OnnxTesting
{
    /// <summary>Every activation the library has, by name (leaky ReLU with a slope that is not a float32 exactly).</summary>
    public static readonly IReadOnlyDictionary<string, Activation> Activations = new Dictionary<string, Activation>
    {
        ["identity"] = Activation.Identity,
        ["step"] = Activation.Step,
        ["sigmoid"] = Activation.Sigmoid,
        ["tanh"] = Activation.Tanh,
        ["relu"] = Activation.ReLU,
        ["leaky-relu"] = Activation.LeakyReLU(0.1),
        ["softmax"] = Activation.Softmax,
    };

    /// <summary>A 6-8-5-4 network with the activation on every layer, Xavier-normal weights from the seed.</summary>
    public static NeuralNetwork<T> Network<T>(Activation activation, int seed)
        where T : IFloatingPointIeee754<T> =>
        NeuralNetwork.Create(6)
            .Dense(8, activation, Initializer.XavierNormal)
            .Dense(5, activation, Initializer.XavierNormal)
            .Dense(4, activation, Initializer.XavierNormal)
            .Build<T>(seed);

    /// <summary>
    /// A 6-8-4 network with σ as layers of their own in each place an importer meets one: on x,
    /// after a dense layer of identity σ (a Gemm, then σ), after another activation layer, and last
    /// (σ, dense 6→8, σ, σ, dense 8→4, σ), Xavier-normal weights from the seed.
    /// </summary>
    public static NeuralNetwork<T> ActivationLayers<T>(Activation activation, int seed)
        where T : IFloatingPointIeee754<T> =>
        NeuralNetwork.Create(6)
            .Activation(activation)
            .Dense(8, initializer: Initializer.XavierNormal).Activation(activation).Activation(activation)
            .Dense(4, initializer: Initializer.XavierNormal).Activation(activation)
            .Build<T>(seed);

    /// <summary>
    /// <see cref="ActivationLayers{T}"/> as an ONNX file of it reads back: σ right after a Gemm joins
    /// that dense layer, σ on x or after another σ stays a layer of its own, and the identity, which
    /// leaves no node, leaves no layer. The same weights from the same seed.
    /// </summary>
    public static NeuralNetwork<T> ActivationLayersAsRead<T>(Activation activation, int seed)
        where T : IFloatingPointIeee754<T> =>
        activation.Kind == ActivationKind.Identity
            ? NeuralNetwork.Create(6).Dense(8, activation, Initializer.XavierNormal).Dense(4, activation, Initializer.XavierNormal).Build<T>(seed)
            : NeuralNetwork.Create(6)
                .Activation(activation)
                .Dense(8, activation, Initializer.XavierNormal).Activation(activation)
                .Dense(4, activation, Initializer.XavierNormal)
                .Build<T>(seed);

    /// <summary>
    /// A 6-8-4 network with σ on both dense layers and dropout on x, after the hidden layer and,
    /// when <paramref name="last"/>, after the output layer; Xavier-normal weights from the seed.
    /// </summary>
    public static NeuralNetwork<T> DropoutLayers<T>(Activation activation, int seed, bool last)
        where T : IFloatingPointIeee754<T>
    {
        var builder = NeuralNetwork.Create(6)
            .Dropout(0.2).Dense(8, activation, Initializer.XavierNormal)
            .Dropout(0.5).Dense(4, activation, Initializer.XavierNormal);
        return (last ? builder.Dropout(0.3) : builder).Build<T>(seed);
    }

    /// <summary><see cref="DropoutLayers{T}"/> without its dropout layers, as its ONNX file reads back: the same weights from the same seed.</summary>
    public static NeuralNetwork<T> WithoutDropout<T>(Activation activation, int seed)
        where T : IFloatingPointIeee754<T> =>
        NeuralNetwork.Create(6).Dense(8, activation, Initializer.XavierNormal).Dense(4, activation, Initializer.XavierNormal).Build<T>(seed);

    /// <summary>Opsets the exporter writes, each with the lowest IR version that carries it, from the oldest to the newest.</summary>
    public static TheoryData<int, long> WrittenOpsets() => new() { { 9, 4 }, { 11, 6 }, { 12, 7 }, { 17, 8 }, { 19, 9 }, { 21, 10 } };

    /// <summary>Examples drawn uniformly from [−2, 2] with a fixed seed.</summary>
    public static T[][] Inputs<T>(int count, int width, int seed)
        where T : IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, width).Select(_ => T.CreateTruncating((random.NextDouble() * 4) - 2)).ToArray()).ToArray();
    }

    /// <summary>
    /// The examples on which no step layer's weighted input lies within 10⁻³ of its scale Σ|wₖaₖ| + |b|
    /// of 0: there the step's value is decided by rounding, which may differ between any two correct
    /// implementations. Computed in float64 from the library's own forward pass.
    /// </summary>
    public static T[][] AwayFromSteps<T>(NeuralNetwork<T> network, T[][] inputs)
        where T : IFloatingPointIeee754<T>
    {
        var core = Core.Network.convert<T, double>(network.CoreNetwork);
        return inputs.Where(x =>
        {
            var a = x.Select(v => double.CreateTruncating(v)).ToArray();
            var scales = a.Select(Math.Abs).ToArray();
            foreach (var layer in core.Layers)
            {
                // A dense layer's z = W a + b with each z's scale Σ|wₖaₖ| + |b|; every other kind
                // here passes its input on in inference (z = a).
                var (z, scale) = layer is Core.Layer<double>.Dense dense ? Affine(dense.Item, a) : (a, scales);
                var activation = Core.Layer.activation(layer);
                if (activation.IsStep && z.Where((v, j) => Math.Abs(v) < 1e-3 * scale[j]).Any())
                {
                    return false;
                }

                a = Core.ActivationModule.apply(activation, Core.Matrix.ofColumnMajor(z.Length, 1, z)).ToArray();
                scales = a.Select(Math.Abs).ToArray();
            }

            return true;
        }).ToArray();
    }

    /// <summary>z = W a + b in float64, and each entry's scale Σₖ|wⱼₖaₖ| + |bⱼ|.</summary>
    private static (double[] Z, double[] Scale) Affine(Core.Dense<double> layer, double[] a)
    {
        var w = layer.Weights;
        var b = layer.Biases.ToArray();
        var z = new double[w.Rows];
        var scale = new double[w.Rows];
        for (var j = 0; j < w.Rows; j++)
        {
            scale[j] = Math.Abs(b[j]);
            z[j] = b[j];
            for (var k = 0; k < w.Cols; k++)
            {
                z[j] += w[j, k] * a[k];
                scale[j] += Math.Abs(w[j, k] * a[k]);
            }
        }

        return (z, scale);
    }

    /// <summary>
    /// Runs the model in ONNX Runtime (its CPU provider, default optimisations) on the batch, each
    /// example shaped <paramref name="example"/> ([C, H, W] for images; by default [n], its
    /// length); one output row per example, its values in C-H-W order for an image output.
    /// </summary>
    public static T[][] RunInOnnxRuntime<T>(byte[] model, T[][] inputs, string input = "x", string output = "y", long[]? example = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var session = new InferenceSession(model);
        var flat = inputs.SelectMany(x => x).ToArray();
        using var x = OrtValue.CreateTensorValueFromMemory(flat, (example ?? new long[] { inputs[0].Length }).Prepend(inputs.Length).ToArray());
        using var options = new RunOptions();
        using var results = session.Run(options, new[] { input }, new[] { x }, new[] { output });
        var y = results[0].GetTensorDataAsSpan<T>().ToArray();
        var units = y.Length / inputs.Length;
        return Enumerable.Range(0, inputs.Length).Select(i => y.AsSpan(i * units, units).ToArray()).ToArray();
    }

    /// <summary>The model's bytes as <see cref="OnnxModel.Save{T}(NeuralNetwork{T}, Stream, OnnxExportOptions?)"/> writes them.</summary>
    public static byte[] Export<T>(NeuralNetwork<T> network, OnnxExportOptions? options = null)
        where T : IFloatingPointIeee754<T>
    {
        using var stream = new MemoryStream();
        OnnxModel.Save(network, stream, options);
        return stream.ToArray();
    }

    /// <summary>The model's bytes as <see cref="OnnxNetwork.Save{T}(Core.Network{T}, Stream, OnnxExportOptions?)"/> writes them.</summary>
    public static byte[] Export<T>(Core.Network<T> network, OnnxExportOptions? options = null)
        where T : IFloatingPointIeee754<T>
    {
        using var stream = new MemoryStream();
        OnnxNetwork.Save(network, stream, options);
        return stream.ToArray();
    }

    /// <summary>
    /// The options that write the network: the defaults, or opset 12 for a network with a softmax
    /// over a whole image, which ONNX writes only before opset 13.
    /// </summary>
    public static OnnxExportOptions ExportOptionsFor<T>(Core.Network<T> network)
        where T : IFloatingPointIeee754<T> =>
        network.Layers.Zip(network.Shapes.Skip(1)).Any(l => Core.Layer.activation(l.First).IsSoftmax && l.Second is Core.Shape.Image)
            ? new OnnxExportOptions { Opset = 12 }
            : OnnxExportOptions.Default;

    /// <summary>The core network's outputs in inference (Forward.run), one row per example.</summary>
    public static T[][] Predict<T>(Core.Network<T> network, T[][] inputs)
        where T : IFloatingPointIeee754<T>
    {
        var y = Core.Forward.run(network, Core.Matrix.ofColumnMajor(network.InputWidth, inputs.Length, inputs.SelectMany(x => x).ToArray())).ToArray();
        var units = network.OutputWidth;
        return Enumerable.Range(0, inputs.Length).Select(e => y.AsSpan(e * units, units).ToArray()).ToArray();
    }

    /// <summary>The scale of each example's sums in the network's arithmetic (see <see cref="Scales{T}(Core.Network{T}, T[][])"/>).</summary>
    public static double[] Scales<T>(NeuralNetwork<T> network, T[][] inputs)
        where T : IFloatingPointIeee754<T> =>
        Scales(network.CoreNetwork, inputs);

    /// <summary>
    /// The scale each example's outputs are computed at: the forward pass in absolute values, in
    /// float64, largest over the outputs (at least the largest output). Each layer's own step runs
    /// on |a| with its parameters' absolute values — ẑ = |W| ẑ + |b| for dense and convolution
    /// layers, the pooling of ẑ, |γ|(ẑ + |μ|)/√(σ² + ε) + |β| for batch normalisation — and σ is
    /// left out. Rounding errors are proportional to these sums of magnitudes, not to the outputs:
    /// every activation here has |σ'| ≤ 1, so an error in z reaches y no larger, and an output that
    /// cancels to near 0 still carries the rounding of the large terms that cancelled.
    /// </summary>
    public static double[] Scales<T>(Core.Network<T> network, T[][] inputs)
        where T : IFloatingPointIeee754<T>
    {
        var core = Core.Network.convert<T, double>(network);
        var absolute = Core.Network.create(core.InputShape, core.Layers.Zip(core.Shapes, Absolute));
        return Predict(absolute, inputs.Select(e => e.Select(v => Math.Abs(double.CreateTruncating(v))).ToArray()).ToArray()).Select(row => row.Max()).ToArray();
    }

    /// <summary>The layer's own step in absolute values with the identity σ, for <see cref="Scales{T}(Core.Network{T}, T[][])"/>.</summary>
    private static Core.Layer<double> Absolute(Core.Layer<double> layer, Core.Shape input)
    {
        var identity = Core.Activation.Identity;
        var none = FSharpOption<Core.Initializer>.None;
        var spec = Core.Layer.spec(layer) switch
        {
            Core.LayerSpec.Dense d => Core.LayerSpec.NewDense(d.units, identity, none),
            Core.LayerSpec.Conv2D c => Core.LayerSpec.NewConv2D(c.filters, c.kernel, c.stride, c.padding, identity, none),
            Core.LayerSpec.Activation => Core.LayerSpec.NewActivation(identity),
            var other => other,
        };
        static Core.Matrix<double> Abs(Core.Matrix<double> m, double sign) => Core.Matrix.ofColumnMajor(m.Rows, m.Cols, m.ToArray().Select(v => sign * Math.Abs(v)).ToArray());
        var parameters = Core.Layer.parameters(layer).Select(m => Abs(m, 1));

        // Batch normalisation's (a − μ) becomes a + |μ| with the running mean −|μ|; the variance is kept.
        var state = Core.Layer.state(layer).Select((m, k) => k == 0 ? Abs(m, -1) : m);
        return Core.Layer.ofTensors(spec, input, ListModule.OfSeq(parameters), ListModule.OfSeq(state));
    }

    /// <summary>
    /// The largest difference between two batches of outputs relative to each example's scale:
    /// maxᵢ |aᵢ − bᵢ| / max(scale, maxᵢ |bᵢ|), with the scale from <see cref="Scales{T}"/>.
    /// </summary>
    public static double RelativeDifference<T>(T[][] actual, T[][] expected, double[] scales)
        where T : IFloatingPointIeee754<T>
    {
        if (actual.Length != expected.Length || scales.Length != expected.Length)
        {
            throw new ArgumentException($"{actual.Length} examples against {expected.Length} ({scales.Length} scales).");
        }

        var worst = 0.0;
        for (var e = 0; e < expected.Length; e++)
        {
            if (actual[e].Length != expected[e].Length)
            {
                throw new ArgumentException($"Example {e} has {actual[e].Length} outputs against {expected[e].Length}.");
            }

            var scale = Math.Max(scales[e], expected[e].Max(v => Math.Abs(double.CreateTruncating(v))));
            var difference = actual[e].Zip(expected[e], (a, b) => Math.Abs(double.CreateTruncating(a) - double.CreateTruncating(b))).Max();
            worst = Math.Max(worst, difference == 0 ? 0 : scale == 0 ? double.PositiveInfinity : difference / scale);
        }

        return worst;
    }

    /// <summary>
    /// "… absolute, … relative to the output, … relative to the example's scale": the largest
    /// differences between two batches of outputs (outputs of 0 left out of the second), and the
    /// scaled difference <see cref="RelativeDifference{T}"/> gave, for the tests to print.
    /// </summary>
    public static string Differences<T>(T[][] actual, T[][] expected, double scaled)
        where T : IFloatingPointIeee754<T>
    {
        var pairs = actual.Zip(expected).SelectMany(p => p.First.Zip(p.Second, (a, b) => (A: double.CreateTruncating(a), B: double.CreateTruncating(b)))).ToArray();
        var absolute = pairs.Max(p => Math.Abs(p.A - p.B));
        var relative = pairs.Where(p => p.B != 0).Select(p => Math.Abs(p.A - p.B) / Math.Abs(p.B)).DefaultIfEmpty(0).Max();
        return $"{absolute:G3} absolute, {relative:G3} relative to the output, {scaled:G3} relative to the example's scale";
    }

    /// <summary>The tolerance of the issue: 10⁻⁶ for float32 (a few dozen ulps), 10⁻¹² for float64.</summary>
    public static double Tolerance<T>() => typeof(T) == typeof(float) ? 1e-6 : 1e-12;

    /// <summary>Every parameter as raw bits, in the core's order (layer by layer, each tensor column-major).</summary>
    public static long[] Bits<T>(NeuralNetwork<T> network)
        where T : IFloatingPointIeee754<T> =>
        Core.Parameters.toArray(network.CoreNetwork).Select(v => BitConverter.DoubleToInt64Bits(double.CreateTruncating(v))).ToArray();

    /// <summary>Every parameter, then every state value (batch normalisation's running statistics), as raw bits, in the core's order.</summary>
    public static long[] Bits<T>(Core.Network<T> network)
        where T : IFloatingPointIeee754<T> =>
        Core.Parameters.toArray(network).Concat(network.State.SelectMany(m => m.ToArray())).Select(v => BitConverter.DoubleToInt64Bits(double.CreateTruncating(v))).ToArray();

    /// <summary>Outputs as raw bits, for bit-for-bit comparisons.</summary>
    public static long[] Bits<T>(T[][] outputs)
        where T : IFloatingPointIeee754<T> =>
        outputs.SelectMany(row => row).Select(v => BitConverter.DoubleToInt64Bits(double.CreateTruncating(v))).ToArray();

    /// <summary>The folder of the PyTorch test data, copied beside the test binaries.</summary>
    public static string DataFolder => Path.Combine(AppContext.BaseDirectory, "Onnx", "Data");
}
