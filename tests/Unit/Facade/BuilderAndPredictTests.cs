using System;
using System.Linq;
using FunctionalBackprop.Tests.Support;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>Building networks and asking them for predictions.</summary>
public class BuilderAndPredictTests
{
    private static NeuralNetwork<double> Small() =>
        NeuralNetwork.Create(3).Dense(4, Activation.Tanh).Dense(2, Activation.Softmax).Build(seed: 7);

    [Fact]
    public void TheOnlyWayToStartANetworkIsNeuralNetworkCreate()
    {
        Assert.Empty(typeof(NetworkBuilder).GetConstructors());
        Assert.Equal(3, NeuralNetwork.Create(3).InputWidth);
    }

    [Fact]
    public void ClassifyTakesEveryShapePredictTakes()
    {
        var network = Small();
        var rows = new[] { new[] { 0.1, -0.2, 0.3 }, new[] { 1.0, 0.0, -1.0 }, new[] { -2.0, 1.0, 0.5 } };
        var grid = new double[3, 3];
        for (var j = 0; j < 3; j++)
        {
            for (var i = 0; i < 3; i++)
            {
                grid[j, i] = rows[j][i];
            }
        }

        var data = Dataset<double>.FromLabels(rows, new[] { 0, 1, 0 }, 2);
        var expected = network.Predict(rows).Select(o => Array.IndexOf(o, o.Max())).ToArray();
        Assert.Equal(expected, network.Classify(rows));
        Assert.Equal(expected, network.Classify(grid));
        Assert.Equal(expected, network.Classify(data));
        Assert.Equal(expected[1], network.Classify(rows[1]));
        Assert.Equal(expected[1], network.Classify(rows[1].AsSpan()));
        Assert.Equal(network.Predict(rows), network.Predict(data));
    }

    [Fact]
    public void BuilderDescribesTheNetwork()
    {
        var network = Small();
        Assert.Equal(3, network.InputWidth);
        Assert.Equal(2, network.OutputWidth);
        Assert.Equal((3 * 4) + 4 + (4 * 2) + 2, network.ParameterCount);
        Assert.Equal(
            new[] { new LayerInfo(LayerKind.Dense, 3, 4, Activation.Tanh, "dense 3→4 tanh"), new LayerInfo(LayerKind.Dense, 4, 2, Activation.Softmax, "dense 4→2 softmax") },
            network.Layers);
    }

    [Fact]
    public void TheSameSeedBuildsTheSameWeights()
    {
        Assert.Equal(Small().GetWeights(0), Small().GetWeights(0));
        var other = NeuralNetwork.Create(3).Dense(4, Activation.Tanh).Dense(2, Activation.Softmax).Build(seed: 8);
        Assert.NotEqual(Small().GetWeights(0), other.GetWeights(0));
    }

    [Fact]
    public void BuildersAreImmutable()
    {
        var common = NeuralNetwork.Create(3).Dense(4, Activation.Tanh);
        var a = common.Dense(2, Activation.Softmax);
        var b = common.Dense(5, Activation.Sigmoid);
        Assert.Equal(1, common.LayerCount);
        Assert.Equal(2, a.Build(1).OutputWidth);
        Assert.Equal(5, b.Build(1).OutputWidth);
    }

    [Fact]
    public void AZeroWidthLayerFailsAtBuildNamingTheLayer()
    {
        var builder = NeuralNetwork.Create(3).Dense(4, Activation.Tanh).Dense(0, Activation.Softmax);
        var e = Assert.Throws<ArgumentException>(() => builder.Build(1));
        Assert.Contains("Layer 2: A dense layer needs at least one unit, got 0.", e.Message);
    }

    [Fact]
    public void ABadLeakySlopeFailsAtBuildNamingTheLayer()
    {
        var builder = NeuralNetwork.Create(3).Dense(4, Activation.Tanh).Dense(4, Activation.Tanh).Dense(2, Activation.LeakyReLU(1.5));
        var e = Assert.Throws<ArgumentException>(() => builder.Build(1));
        Assert.StartsWith("Layer 3:", e.Message);
        Assert.Contains("1.5", e.Message);
    }

    [Fact]
    public void ANetworkNeedsLayersAndInputs()
    {
        Assert.Contains("no layers", Assert.Throws<ArgumentException>(() => NeuralNetwork.Create(3).Build(1)).Message);
        Assert.Contains("at least 1", Assert.Throws<ArgumentOutOfRangeException>(() => NeuralNetwork.Create(0).Dense(1, Activation.Sigmoid).Build(1)).Message);
    }

    [Fact]
    public void PredictGivesTheSameOutputForEveryShapeOfInput()
    {
        var network = Small();
        var examples = new[] { new[] { 0.1, -0.2, 0.3 }, new[] { 1.0, 0.0, -1.0 } };
        var one = network.Predict(examples[0]);
        var span = network.Predict(examples[0].AsSpan());
        var jagged = network.Predict(examples);
        var rows = network.Predict(new double[,] { { 0.1, -0.2, 0.3 }, { 1.0, 0.0, -1.0 } });
        Assert.Equal(2, one.Length);
        Assert.Equal(one, span);
        Assert.Equal(one, jagged[0]);
        Assert.Equal(new[] { rows[1, 0], rows[1, 1] }, jagged[1]);
        Assert.Equal(1.0, one.Sum(), 15);
    }

    [Fact]
    public void ClassifyIsTheArgMaxOfPredict()
    {
        var network = Small();
        var input = new[] { 0.5, 0.5, -0.5 };
        var output = network.Predict(input);
        Assert.Equal(Array.IndexOf(output, output.Max()), network.Classify(input));
        Assert.Equal(new[] { network.Classify(input) }, network.Classify(new[] { input }));
    }

    [Fact]
    public void AnInputOfTheWrongWidthIsRefusedWithBothWidths()
    {
        var e = Assert.Throws<ArgumentException>(() => Small().Predict(new[] { 1.0, 2.0 }));
        Assert.Contains("inputs of 3 values", e.Message);
        Assert.Contains("has 2", e.Message);
    }

    [Fact]
    public void AnInputThatIsNotFiniteIsRefusedWithItsPosition()
    {
        var e = Assert.Throws<ArgumentException>(() => Small().Predict(new[] { new[] { 1.0, 2.0, 3.0 }, new[] { 1.0, double.NaN, 3.0 } }));
        Assert.Contains("inputs[1][1] is NaN", e.Message);
    }

    [Fact]
    public void RaggedInputsAreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => Small().Predict(new[] { new[] { 1.0, 2.0, 3.0 }, new[] { 1.0 } }));
        Assert.Contains("inputs[1] has 1 values but inputs[0] has 3", e.Message);
    }

    [Fact]
    public void Float32NetworksHaveTheSameShapeOfApi()
    {
        var network = NeuralNetwork.Create(3).Dense(4, Activation.Tanh).Dense(2, Activation.Softmax).Build<float>(seed: 7);
        var output = network.Predict(new[] { 0.1f, -0.2f, 0.3f });
        Assert.Equal(1f, output.Sum(), 6);
        // The float32 weights are the float64 draws rounded once.
        Assert.Equal(Small().GetWeights(0).Cast<double>().Select(v => (float)v), network.GetWeights(0).Cast<float>());
    }
}

/// <summary>Tests that change process-wide settings run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public class ProcessWideSettings
{
    /// <summary>The collection's name.</summary>
    public const string Name = "process-wide settings";
}

/// <summary>Seeing and choosing the matrix-product provider.</summary>
[Collection(ProcessWideSettings.Name)]
public class LinearAlgebraTests
{
    [Fact]
    public void TheManagedKernelCanBeChosenAndIsSeen()
    {
        var before = LinearAlgebra.Provider;
        try
        {
            LinearAlgebra.UseManaged();
            Assert.Equal("managed", LinearAlgebra.Provider);
            Assert.Equal(LinearAlgebra.NativeAvailable, LinearAlgebra.TryUseNative());
        }
        finally
        {
            if (before.StartsWith("native", StringComparison.Ordinal))
            {
                LinearAlgebra.TryUseNative();
            }
            else
            {
                LinearAlgebra.UseManaged();
            }
        }
    }

    [NativeBlasFact]
    public void OnTheNativeBlasTheProviderCanBeSeenAndChosen()
    {
        var before = LinearAlgebra.Provider;
        try
        {
            LinearAlgebra.UseManaged();
            Assert.Equal("managed", LinearAlgebra.Provider);
            var network = NeuralNetwork.Create(3).Dense(2, Activation.Tanh).Build(seed: 1);
            var managed = network.Predict(new[] { 0.5, -0.5, 1.0 });
            Assert.True(LinearAlgebra.TryUseNative(), "a native BLAS is installed here, as .ci/run arranges");
            Assert.StartsWith("native", LinearAlgebra.Provider);
            var native = network.Predict(new[] { 0.5, -0.5, 1.0 });
            Assert.Equal(managed[0], native[0], 14);
            Assert.True(LinearAlgebra.NativeMaxThreads >= 1);
        }
        finally
        {
            if (before.StartsWith("native", StringComparison.Ordinal))
            {
                LinearAlgebra.TryUseNative();
            }
            else
            {
                LinearAlgebra.UseManaged();
            }
        }
    }
}
