using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.FSharp.Reflection;
using FunctionalBackprop.Testing;
using Xunit;
using Xunit.Abstractions;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>
/// Layers of every kind through the facade: an activation layer after a dense layer is that dense
/// layer with the activation, bit for bit; dropout is refused outside [0, 1), is the identity in
/// Predict and Evaluate, draws its masks from FitOptions.Seed (the same with any shard count), and
/// passes the gradient check in training mode; networks of every kind save, load and resume bit
/// for bit; and every kind of the core has its facade kind and builder method.
/// </summary>
public sealed class LayerTests(ITestOutputHelper output)
{
    /// <summary>The activations by name (leaky ReLU with a slope that is not a float32 exactly).</summary>
    private static readonly IReadOnlyDictionary<string, Activation> Activations = new Dictionary<string, Activation>
    {
        ["identity"] = Activation.Identity,
        ["step"] = Activation.Step,
        ["sigmoid"] = Activation.Sigmoid,
        ["tanh"] = Activation.Tanh,
        ["relu"] = Activation.ReLU,
        ["leaky-relu"] = Activation.LeakyReLU(0.1),
        ["softmax"] = Activation.Softmax,
    };

    private static readonly IReadOnlyDictionary<string, Loss> Losses = new Dictionary<string, Loss>
    {
        ["quadratic"] = Loss.Quadratic,
        ["cross-entropy"] = Loss.CrossEntropy,
        ["binary-cross-entropy"] = Loss.BinaryCrossEntropy,
    };

    /// <summary><paramref name="count"/> examples of 5 inputs drawn from [−1, 1], with 3 targets each: one-hot classes (the largest of three fixed sums of the inputs).</summary>
    private static (double[][] Inputs, double[][] Targets) Data(int count, int seed)
    {
        var random = new Random(seed);
        var inputs = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, 5).Select(_ => (random.NextDouble() * 2) - 1).ToArray()).ToArray();
        var targets = inputs.Select(x =>
        {
            var sums = new[] { x[0] + x[1], x[2] - x[3], x[4] - x[0] };
            var top = Array.IndexOf(sums, sums.Max());
            return Enumerable.Range(0, 3).Select(c => c == top ? 1.0 : 0.0).ToArray();
        }).ToArray();
        return (inputs, targets);
    }

    /// <summary>Every parameter of every layer that has some (dense layers), as raw bits: weights row by row, then biases.</summary>
    private static long[] ParameterBits<T>(NeuralNetwork<T> network)
        where T : System.Numerics.IFloatingPointIeee754<T> =>
        Parameters(network).Select(v => BitConverter.DoubleToInt64Bits(double.CreateTruncating(v))).ToArray();

    private static double[] Parameters<T>(NeuralNetwork<T> network)
        where T : System.Numerics.IFloatingPointIeee754<T> =>
        Enumerable.Range(0, network.Layers.Count)
            .Where(i => network.Layers[i].Kind == LayerKind.Dense)
            .SelectMany(i => network.GetWeights(i).Cast<T>().Concat(network.GetBiases(i)))
            .Select(v => double.CreateTruncating(v))
            .ToArray();


    private static byte[] Saved(NeuralNetwork<double> network)
    {
        using var stream = new MemoryStream();
        network.Save(stream);
        return stream.ToArray();
    }

    // ----- activations as layers of their own -----

    public static TheoryData<string> ActivationNames()
    {
        var data = new TheoryData<string>();
        foreach (var name in Activations.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ActivationNames))]
    public void ADenseLayerThenAnActivationLayerBuildsAndPredictsAsTheDenseLayerWithThatActivation(string name)
    {
        // Default initializers: Dense(n) then Activation(σ) draws what Dense(n, σ) draws (He for the
        // rectifiers, Xavier otherwise), from the same stream of the seed.
        var activation = Activations[name];
        var compact = NeuralNetwork.Create(5).Dense(7, activation).Dense(3, activation).Build(seed: 21);
        var layered = NeuralNetwork.Create(5).Dense(7).Activation(activation).Dense(3).Activation(activation).Build(seed: 21);

        Assert.Equal(new[] { LayerKind.Dense, LayerKind.Activation, LayerKind.Dense, LayerKind.Activation }, layered.Layers.Select(l => l.Kind));
        Assert.Equal(compact.GetWeights(0), layered.GetWeights(0));
        Assert.Equal(compact.GetBiases(0), layered.GetBiases(0));
        Assert.Equal(compact.GetWeights(1), layered.GetWeights(2));
        Assert.Equal(compact.GetBiases(1), layered.GetBiases(2));
        Assert.Equal(compact.ParameterCount, layered.ParameterCount);
        Assert.Equal(compact.IsClassifier, layered.IsClassifier);
        Assert.Equal(compact.DefaultLoss, layered.DefaultLoss);
        var (inputs, _) = Data(40, seed: 1);
        Assert.Equal(Bits.Of(compact.Predict(inputs)), Bits.Of(layered.Predict(inputs)));
    }

    /// <summary>Hidden σ, output σ and loss: the fused paths (softmax with cross-entropy, sigmoid with either cross-entropy) among them.</summary>
    public static TheoryData<string, string, string> TrainableForms() => new()
    {
        { "relu", "softmax", "cross-entropy" },
        { "sigmoid", "sigmoid", "binary-cross-entropy" },
        { "tanh", "sigmoid", "cross-entropy" },
        { "leaky-relu", "identity", "quadratic" },
        { "softmax", "tanh", "quadratic" },
        { "identity", "relu", "quadratic" },
        { "relu", "softmax", "quadratic" },
    };

    [Theory]
    [MemberData(nameof(TrainableForms))]
    public void ADenseLayerThenAnActivationLayerTrainsAsTheDenseLayerWithThatActivation(string hidden, string output, string loss)
    {
        var (sigma, tau) = (Activations[hidden], Activations[output]);
        var compact = NeuralNetwork.Create(5).Dense(7, sigma).Dense(3, tau).Build(seed: 4);
        var layered = NeuralNetwork.Create(5).Dense(7).Activation(sigma).Dense(3).Activation(tau).Build(seed: 4);
        var (inputs, targets) = Data(40, seed: 2);
        var options = new FitOptions { Epochs = 4, BatchSize = 8, Seed = 6, Loss = Losses[loss], Optimizer = Optimizer.HeavyBall(0.05, 0.9) };

        var a = compact.Fit(inputs, targets, options);
        var b = layered.Fit(inputs, targets, options);

        Assert.Equal(ParameterBits(a.Network), ParameterBits(b.Network));
        Assert.Equal(Bits.Of(a.History), Bits.Of(b.History));
        Assert.Equal(Bits.Of(a.Network.Predict(inputs)), Bits.Of(b.Network.Predict(inputs)));
        Assert.Equal(Bits.Of(compact.ComputeGradients(inputs, targets, Losses[loss])), Bits.Of(layered.ComputeGradients(inputs, targets, Losses[loss])));
    }

    // ----- dropout's rate and the layers' descriptions -----

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(1.5)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void DropoutRefusesARateOutsideZeroToOneNamingIt(double rate)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => NeuralNetwork.Create(3).Dense(4).Dropout(rate));
        Assert.Equal("rate", e.ParamName);
        Assert.Equal(rate, Assert.IsType<double>(e.ActualValue));
        Assert.Contains(rate.ToString(CultureInfo.CurrentCulture), e.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.999)]
    public void DropoutTakesARateFromZeroToBelowOne(double rate)
    {
        var network = NeuralNetwork.Create(3).Dropout(rate).Dense(2).Build(seed: 1);
        Assert.Equal(LayerKind.Dropout, network.Layers[0].Kind);
        Assert.Contains(rate.ToString(CultureInfo.InvariantCulture), network.Layers[0].Description);
    }

    [Fact]
    public void LayersDescribeEachKind()
    {
        var network = NeuralNetwork.Create(4).Dense(6).Activation(Activation.ReLU).Dropout(0.25).Dense(3, Activation.Softmax).Build(seed: 2);

        Assert.Equal(
            new[]
            {
                new LayerInfo(LayerKind.Dense, 4, 6, Activation.Identity, "dense 4→6 identity"),
                new LayerInfo(LayerKind.Activation, 6, 6, Activation.ReLU, "activation relu"),
                new LayerInfo(LayerKind.Dropout, 6, 6, Activation.Identity, "dropout(p = 0.25)"),
                new LayerInfo(LayerKind.Dense, 6, 3, Activation.Softmax, "dense 6→3 softmax"),
            },
            network.Layers);
        Assert.Equal((4 * 6) + 6 + (6 * 3) + 3, network.ParameterCount);
        Assert.True(network.IsClassifier, "a network ending in a softmax dense layer is a classifier");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void GetWeightsAndGetBiasesOfALayerWithoutParametersThrow(int index)
    {
        var network = NeuralNetwork.Create(5).Dense(6).Activation(Activation.Tanh).Dropout(0.5).Dense(3, Activation.Softmax).Build(seed: 2);
        var weights = Assert.Throws<ArgumentException>(() => network.GetWeights(index));
        var biases = Assert.Throws<ArgumentException>(() => network.GetBiases(index));
        Assert.Equal("index", weights.ParamName);
        Assert.Equal("index", biases.ParamName);
        Assert.Contains($"Layer {index}", weights.Message);
        Assert.Contains(network.Layers[index].Description, weights.Message);
        Assert.Contains("no weights", weights.Message);
        Assert.Contains("no biases", biases.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => network.GetWeights(4));

        // Their gradients are empty, beside the dense layers' full ones.
        var (inputs, targets) = Data(6, seed: 3);
        var gradients = network.ComputeGradients(inputs, targets).Layers;
        Assert.Empty(gradients[index].Weights);
        Assert.Empty(gradients[index].Biases);
        Assert.Equal(6 * 5, gradients[0].Weights.Length);
        Assert.Equal(3, gradients[3].Biases.Length);
    }

    // ----- dropout in inference -----

    /// <summary>Dropout on the inputs and after the hidden layer.</summary>
    private static NetworkBuilder WithDropout(double inputRate = 0.2, double hiddenRate = 0.5) =>
        NeuralNetwork.Create(5).Dropout(inputRate).Dense(8, Activation.Tanh).Dropout(hiddenRate).Dense(3, Activation.Softmax);

    private static NetworkBuilder WithoutDropout() => NeuralNetwork.Create(5).Dense(8, Activation.Tanh).Dense(3, Activation.Softmax);

    [Fact]
    public void DropoutAddsNoParametersAndPredictAndEvaluateIgnoreIt()
    {
        // Built from the same seed, the two draw the same weights: dropout has none.
        var dropout = WithDropout().Build(seed: 9);
        var plain = WithoutDropout().Build(seed: 9);
        Assert.Equal(plain.ParameterCount, dropout.ParameterCount);
        Assert.Equal(ParameterBits(plain), ParameterBits(dropout));

        var (inputs, targets) = Data(50, seed: 4);
        var labels = targets.Select(t => Array.IndexOf(t, 1.0)).ToArray();
        Assert.Equal(Bits.Of(plain.Predict(inputs)), Bits.Of(dropout.Predict(inputs)));
        Assert.Equal(plain.Classify(inputs), dropout.Classify(inputs));
        Assert.Equal(plain.Evaluate(inputs, targets).Loss, dropout.Evaluate(inputs, targets).Loss);
        var a = plain.EvaluateClassifier(inputs, labels);
        var b = dropout.EvaluateClassifier(inputs, labels);
        Assert.Equal((a.Loss, a.Accuracy), (b.Loss, b.Accuracy));
        Assert.Equal(a.ConfusionMatrix, b.ConfusionMatrix);
    }

    [Fact]
    public void ATrainedDropoutNetworkPredictsAsItsDenseLayersAlone()
    {
        // After training the weights differ from the plain network's; the prediction is still
        // the dense layers' alone, computed here independently from the weights.
        var (inputs, targets) = Data(60, seed: 5);
        var trained = WithDropout().Build(seed: 9).Fit(inputs, targets, new FitOptions { Epochs = 3, BatchSize = 10, Seed = 2, Loss = Loss.CrossEntropy, Optimizer = Optimizer.Adam(0.01) }).Network;
        var (w1, b1, w2, b2) = (trained.GetWeights(1), trained.GetBiases(1), trained.GetWeights(3), trained.GetBiases(3));
        foreach (var (x, y) in inputs.Zip(trained.Predict(inputs)))
        {
            var hidden = Enumerable.Range(0, 8).Select(j => Math.Tanh(b1[j] + Enumerable.Range(0, 5).Sum(k => w1[j, k] * x[k]))).ToArray();
            var z = Enumerable.Range(0, 3).Select(j => b2[j] + Enumerable.Range(0, 8).Sum(k => w2[j, k] * hidden[k])).ToArray();
            var exps = z.Select(v => Math.Exp(v - z.Max())).ToArray();
            var expected = exps.Select(e => e / exps.Sum()).ToArray();
            for (var j = 0; j < 3; j++)
            {
                Assert.True(Math.Abs(expected[j] - y[j]) <= 1e-14, $"output {j}: Predict {y[j]:R}, the dense layers alone {expected[j]:R}");
            }
        }
    }

    // ----- dropout in training -----

    private static FitOptions DropoutOptions(long seed, int shards = 1) =>
        new() { Epochs = 5, BatchSize = 10, Seed = seed, Shards = shards, Loss = Loss.CrossEntropy, Optimizer = Optimizer.HeavyBall(0.1, 0.9) };

    [Fact]
    public void FitWithDropoutIsReproducibleFromTheSeedAndDiffersFromFitWithout()
    {
        var (inputs, targets) = Data(60, seed: 6);
        var first = WithDropout().Build(seed: 3).Fit(inputs, targets, DropoutOptions(seed: 12));
        var again = WithDropout().Build(seed: 3).Fit(inputs, targets, DropoutOptions(seed: 12));
        var plain = WithoutDropout().Build(seed: 3).Fit(inputs, targets, DropoutOptions(seed: 12));

        Assert.Equal(ParameterBits(first.Network), ParameterBits(again.Network));
        Assert.Equal(Bits.Of(first.History), Bits.Of(again.History));
        // The same initial weights and the same order of examples: only the masks differ.
        Assert.NotEqual(ParameterBits(plain.Network), ParameterBits(first.Network));
        Assert.NotEqual(Bits.Of(plain.History), Bits.Of(first.History));
    }

    [Fact]
    public void DropoutOfRateZeroTrainsExactlyAsNoDropout()
    {
        // Every unit kept and scaled by 1/(1 − 0) = 1: the same bits as the network without it.
        var (inputs, targets) = Data(60, seed: 7);
        var zero = WithDropout(0.0, 0.0).Build(seed: 3).Fit(inputs, targets, DropoutOptions(seed: 12));
        var plain = WithoutDropout().Build(seed: 3).Fit(inputs, targets, DropoutOptions(seed: 12));
        Assert.Equal(ParameterBits(plain.Network), ParameterBits(zero.Network));
        Assert.Equal(Bits.Of(plain.History), Bits.Of(zero.History));
    }

    [Fact]
    public void OneStepOfFitIsTheStepAlongTheGradientInTheTrainingModeOfItsSeed()
    {
        // One step of batch descent (the batch is the whole set, in its own order: step 1, first
        // example 0) with η = 1/2: w₁ = w₀ − g/2, where g is the gradient ComputeGradients gives in
        // the training mode of Fit's seed. Halving is exact, so w₁ rounds once in both.
        var (inputs, targets) = Data(30, seed: 8);
        var network = WithDropout().Build(seed: 5);
        var options = new FitOptions { Epochs = 1, BatchSize = 30, Seed = 17, Shards = 1, Loss = Loss.CrossEntropy, Optimizer = Optimizer.Sgd(0.5) };
        var stepped = network.Fit(inputs, targets, options).Network;
        var gradient = network.ComputeGradients(inputs, targets, Loss.CrossEntropy, new TrainingMode(17));

        var expected = Enumerable.Range(0, network.Layers.Count).Where(l => network.Layers[l].Kind == LayerKind.Dense).SelectMany(l =>
        {
            var (w, b, g) = (network.GetWeights(l), network.GetBiases(l), gradient.Layers[l]);
            return w.Cast<double>().Zip(g.Weights.Cast<double>(), (v, d) => v - (0.5 * d)).Concat(b.Zip(g.Biases, (v, d) => v - (0.5 * d)));
        });
        Assert.Equal(Bits.Of(expected), ParameterBits(stepped));
        Assert.NotEqual(
            Bits.Of(gradient),
            Bits.Of(network.ComputeGradients(inputs, targets, Loss.CrossEntropy, new TrainingMode(18))));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void FitWithDropoutOnKShardsEqualsOneShardWithinTheSummationsRounding(int shards)
    {
        // One step of batch descent with η = 1 on n = 30 examples: w₁ = w₀ − g. The masks are
        // keyed by each example's place in the epoch, so every example's own forward and backward
        // steps give the same terms ∇Cⱼ/n whichever shard computes them; the only thing the
        // split changes is the order in which the n terms are summed in ∂C/∂w and ∂C/∂b. Any
        // order lies within (n − 1)ε·Σⱼ|∇Cⱼ|/n of the exact sum, so the two gradients within
        // twice that; w₀ − g then rounds once in each (an ulp of w₁ between them). Masks drawn
        // differently (another seed) move the weights far beyond this, as checked last.
        const int n = 30;
        var (inputs, targets) = Data(n, seed: 9);
        var network = WithDropout(0.3, 0.5).Build(seed: 4);
        FitOptions Options(long seed, int k) =>
            new() { Epochs = 1, BatchSize = n, Seed = seed, Shards = k, Loss = Loss.CrossEntropy, Optimizer = Optimizer.Sgd(1.0) };

        var one = Parameters(network.Fit(inputs, targets, Options(23, 1)).Network);
        var sharded = network.Fit(inputs, targets, Options(23, shards)).Network;
        var again = network.Fit(inputs, targets, Options(23, shards)).Network;
        Assert.Equal(ParameterBits(sharded), ParameterBits(again));

        // Σⱼ|∇Cⱼ|/n per parameter, each example's gradient alone in the mode of its place j.
        var magnitudes = new double[one.Length];
        for (var j = 0; j < n; j++)
        {
            var alone = network.ComputeGradients(new[] { inputs[j] }, new[] { targets[j] }, Loss.CrossEntropy, new TrainingMode(23) { FirstExample = j });
            var terms = alone.Layers.SelectMany(g => g.Weights.Cast<double>().Concat(g.Biases)).ToArray();
            for (var p = 0; p < terms.Length; p++)
            {
                magnitudes[p] += Math.Abs(terms[p]) / n;
            }
        }

        var u = Math.Pow(2, -53);
        double Allowed(int p, double w) => (2 * (n - 1) * u * magnitudes[p]) + (Math.BitIncrement(Math.Abs(w)) - Math.Abs(w));
        var k = Parameters(sharded);
        output.WriteLine($"{shards} shards against one: largest difference {Enumerable.Range(0, one.Length).Max(p => Math.Abs(k[p] - one[p]) / Allowed(p, one[p])):G3} of the allowed");
        for (var p = 0; p < one.Length; p++)
        {
            Assert.True(Math.Abs(k[p] - one[p]) <= Allowed(p, one[p]), $"parameter {p}: {shards} shards {k[p]:R}, one shard {one[p]:R}, allowed {Allowed(p, one[p]):R}");
        }

        var otherMasks = Parameters(network.Fit(inputs, targets, Options(24, shards)).Network);
        Assert.Contains(Enumerable.Range(0, one.Length), p => Math.Abs(otherMasks[p] - one[p]) > 1000 * Allowed(p, one[p]));
    }

    [Fact]
    public void GradientsInTrainingModePassTheGradientCheck()
    {
        var network = WithDropout(0.3, 0.5).Build(seed: 10);
        var (inputs, targets) = Data(6, seed: 10);
        var mode = new TrainingMode(31) { Step = 3, FirstExample = 20 };

        var check = network.CheckGradients(inputs, targets, Loss.CrossEntropy, mode);
        Assert.True(check.MaxRelativeError < 1e-6, $"backprop and finite differences differ by {check.MaxRelativeError:G3} relative at {check.Worst} (analytic {check.Analytic:R}, numeric {check.Numeric:R})");
        Assert.Equal(network.ParameterCount, check.Checked);

        // The mode is a fixed key: the same gradient twice, and another than inference's.
        var training = network.ComputeGradients(inputs, targets, Loss.CrossEntropy, mode);
        Assert.Equal(Bits.Of(training), Bits.Of(network.ComputeGradients(inputs, targets, Loss.CrossEntropy, mode)));
        Assert.NotEqual(Bits.Of(training), Bits.Of(network.ComputeGradients(inputs, targets, Loss.CrossEntropy)));
    }

    [Fact]
    public void GradientsInInferenceModeAreThoseOfTheNetworkWithoutDropout()
    {
        var dropout = WithDropout().Build(seed: 11);
        var plain = WithoutDropout().Build(seed: 11);
        var (inputs, targets) = Data(12, seed: 11);

        var a = dropout.ComputeGradients(inputs, targets, Loss.CrossEntropy, training: null);
        var b = plain.ComputeGradients(inputs, targets, Loss.CrossEntropy);
        Assert.Equal(BitConverter.DoubleToInt64Bits(b.Loss), BitConverter.DoubleToInt64Bits(a.Loss));
        Assert.Equal(Bits.Of(b), Bits.Of(a));
        Assert.True(dropout.CheckGradients(inputs, targets, Loss.CrossEntropy).MaxRelativeError < 1e-6, "the inference-mode gradient check fails");
    }

    // ----- model files -----

    [Fact]
    public void ANetworkWithDropoutAndActivationLayersSavesAsVersion3AndLoadsBitForBit()
    {
        var (inputs, targets) = Data(40, seed: 12);
        var network = NeuralNetwork.Create(5).Dropout(0.1).Dense(8).Activation(Activation.LeakyReLU(0.1)).Dropout(0.4).Dense(3).Activation(Activation.Softmax).Build(seed: 13)
            .Fit(inputs, targets, DropoutOptions(seed: 14)).Network;

        var bytes = Saved(network);
        Assert.Equal(3, bytes[4]);
        Assert.Equal(0, bytes[5]);
        var loaded = NeuralNetwork<double>.Load(new MemoryStream(bytes));
        Assert.Equal(network.Layers, loaded.Layers);
        Assert.Equal(ParameterBits(network), ParameterBits(loaded));
        Assert.Equal(Bits.Of(network.Predict(inputs)), Bits.Of(loaded.Predict(inputs)));
        Assert.Equal(bytes, Saved(loaded));
    }

    [Fact]
    public void ADenseOnlyNetworkStillSavesAsVersion1()
    {
        var bytes = Saved(WithoutDropout().Build(seed: 1));
        Assert.Equal(1, bytes[4]);
        Assert.Equal(0, bytes[5]);
    }

    [Fact]
    public void ResumingADropoutRunFromItsCheckpointEqualsTheUninterruptedRun()
    {
        // The masks of the resumed steps are keyed by the seed and the step the checkpoint holds.
        var (inputs, targets) = Data(60, seed: 15);
        var data = Dataset<double>.FromArrays(inputs, targets);
        var network = WithDropout().Build(seed: 16);
        var straight = network.Fit(data, DropoutOptions(seed: 17));
        var half = network.Fit(data, DropoutOptions(seed: 17) with { Epochs = 2 });

        using var stream = new MemoryStream();
        half.Checkpoint.Save(stream);
        stream.Position = 0;
        var resumed = TrainingCheckpoint<double>.Load(stream).Resume(data, DropoutOptions(seed: 17));
        Assert.Equal(ParameterBits(straight.Network), ParameterBits(resumed.Network));
        Assert.Equal(straight.Checkpoint.Step, resumed.Checkpoint.Step);
        Assert.Equal(Bits.Of(straight.History.Skip(2)), Bits.Of(resumed.History.Skip(resumed.History.Count - 3)));
    }

    // ----- every kind of the core in the facade -----

    /// <summary>The cases of the core's layer union, by name.</summary>
    public static TheoryData<string> CoreLayerKinds()
    {
        var data = new TheoryData<string>();
        foreach (var kind in FSharpType.GetUnionCases(typeof(Core.LayerSpec), null))
        {
            data.Add(kind.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CoreLayerKinds))]
    public void EveryCoreLayerKindHasAFacadeKindAndABuilderMethod(string kind)
    {
        Assert.True(Enum.TryParse<LayerKind>(kind, ignoreCase: false, out _), $"LayerKind has no value {kind}, a kind of Core.LayerSpec.");
        var methods = typeof(NetworkBuilder).GetMethods(BindingFlags.Public | BindingFlags.Instance).Where(m => m.Name == kind).ToArray();
        Assert.True(methods.Length > 0, $"NetworkBuilder has no public method {kind}(…), the builder of Core.LayerSpec.{kind}.");
        Assert.All(methods, m => Assert.Equal(typeof(NetworkBuilder), m.ReturnType));
    }

    [Fact]
    public void EveryFacadeKindIsACoreLayerKind()
    {
        var core = FSharpType.GetUnionCases(typeof(Core.LayerSpec), null).Select(c => c.Name).Order().ToArray();
        Assert.Equal(core, Enum.GetNames<LayerKind>().Order().ToArray());
        Assert.Equal(core, FSharpType.GetUnionCases(typeof(Core.Layer<double>), null).Select(c => c.Name).Order().ToArray());
    }
}
