using System;
using Microsoft.FSharp.Core;
using System.Linq;
using FunctionalBackprop.Core;
using Xunit;

namespace FunctionalBackprop.Tests.CoreApi;

using Activation = FunctionalBackprop.Core.Activation;
using Initializer = FunctionalBackprop.Core.Initializer;
using Loss = FunctionalBackprop.Core.Loss;
using ScalerKind = FunctionalBackprop.Core.ScalerKind;

/// <summary>The core's data rules: class labels as targets, scalers, batches per epoch, and the defaults a network implies.</summary>
public class DataTests
{
    [Fact]
    public void LabelsBecomeOneHotColumnsOrOneBinaryRow()
    {
        var labels = new[] { 2, 0, 1 };
        Assert.Equal(new[] { 0.0, 0, 1, 1, 0, 0, 0, 1, 0 }, ClassLabels.oneHot<double>(3, labels).ToArray());
        Assert.Equal(new[] { 1.0, 0, 1 }, ClassLabels.binary<double>(new[] { 1, 0, 1 }).ToArray());
        Assert.Equal(ClassLabels.binary<double>(new[] { 1, 0 }).ToArray(), ClassLabels.forOutput<double>(1, new[] { 1, 0 }).ToArray());
        Assert.Equal(ClassLabels.oneHot<double>(3, labels).ToArray(), ClassLabels.forOutput<double>(3, labels).ToArray());
        Assert.Equal(labels, Evaluation.classes(ClassLabels.oneHot<double>(3, labels)));
    }

    [Fact]
    public void ALabelOutsideTheClassesIsNamedAsTheCallerIndexesIt()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ClassLabels.oneHot<double>(3, new[] { 0, 1, 3 }));
        Assert.Equal("labels", e.ParamName);
        Assert.StartsWith("labels[2] is 3, but the classes are 0 … 2.", e.Message);
        Assert.Contains("labels[0] is 2", Assert.Throws<ArgumentOutOfRangeException>(() => ClassLabels.binary<float>(new[] { 2 })).Message);
    }

    /// <summary>Min-max scales by the range; the training minimum becomes 0 and the maximum 1 exactly.</summary>
    [Fact]
    public void AMinMaxScalerMapsTheTrainingRangeOntoZeroToOne()
    {
        var x = Matrix.ofColumns(new[] { new[] { 2.0, -1.0, 5.0 }, new[] { 6.0, 3.0, 5.0 }, new[] { 3.0, 0.5, 5.0 } });
        var scaler = ScalerModule.fitMinMax(x);
        Assert.Equal(ScalerKind.MinMax, scaler.Kind);
        Assert.Equal(new[] { 2.0, -1.0, 5.0 }, scaler.Offsets);
        Assert.Equal(new[] { 4.0, 4.0, 1.0 }, scaler.Scales);
        var scaled = ScalerModule.apply(scaler, x);
        Assert.Equal(new[] { 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.25, 0.375, 0.0 }, scaled.ToArray());
    }

    /// <summary>
    /// The mean and deviation against decimal arithmetic (28 significant digits), an independent
    /// oracle. Summing n = 50 float64 terms errs by at most about nε ≈ 1.1·10⁻¹⁴ relative to the sum
    /// of magnitudes (all terms of a feature share a sign here, and the deviations' squares are
    /// positive), so 10⁻¹³ relative is a bound, not a guess.
    /// </summary>
    [Fact]
    public void AStandardScalerHasTheMeanAndPopulationDeviationOfTheTrainingInputs()
    {
        var random = new System.Random(5);
        var columns = Enumerable.Range(0, 50).Select(_ => new[] { (random.NextDouble() * 10) + 3, random.NextDouble() * 1e-3, 7.0 }).ToArray();
        var scaler = ScalerModule.fitStandard(Matrix.ofColumns(columns));
        for (var i = 0; i < 3; i++)
        {
            var values = columns.Select(c => (decimal)c[i]).ToArray();
            var mean = values.Sum() / values.Length;
            var variance = values.Sum(v => (v - mean) * (v - mean)) / values.Length;
            Assert.Equal((double)mean, scaler.Offsets[i], (double)Math.Abs(mean) * 1e-13);
            var deviation = variance == 0 ? 1.0 : Math.Sqrt((double)variance);
            Assert.Equal(deviation, scaler.Scales[i], deviation * 1e-13);
        }

        Assert.Equal(1.0, scaler.Scales[2]);
    }

    [Fact]
    public void AFloat32InputIsScaledInFloat64AndRoundedOnce()
    {
        var scaler = ScalerModule.create(ScalerKind.Standard, new[] { 0.1 }, new[] { 3.0 });
        var x = Matrix.ofColumns(new[] { new[] { 1.7f } });
        Assert.Equal((float)((1.7f - 0.1) / 3.0), ScalerModule.apply(scaler, x)[0, 0]);
    }

    [Fact]
    public void ScalersRefuseWhatTheyCannotRepresent()
    {
        Assert.Contains("Feature 0's range max − min is ", Assert.Throws<ArgumentException>(() => ScalerModule.fitMinMax(Matrix.ofColumns(new[] { new[] { -1e308 }, new[] { 1e308 } }))).Message);
        Assert.Contains("sum is", Assert.Throws<ArgumentException>(() => ScalerModule.fitStandard(Matrix.ofColumns(new[] { new[] { 1e308 }, new[] { 1e308 } }))).Message);
        Assert.Contains("scales must be positive", Assert.Throws<ArgumentException>(() => ScalerModule.create(ScalerKind.MinMax, new[] { 0.0 }, new[] { -1.0 })).Message);
        var scaler = ScalerModule.create(ScalerKind.MinMax, new[] { 0.0, 0.0 }, new[] { 1.0, 1.0 });
        Assert.Contains("maps 2 features, but the inputs have 3 rows", Assert.Throws<ArgumentException>(() => ScalerModule.apply(scaler, Matrix.zeros<double>(3, 1))).Message);
    }

    [Theory]
    [InlineData(10, 3, 4)]
    [InlineData(10, 10, 1)]
    [InlineData(10, 100, 1)]
    [InlineData(10, 1, 10)]
    [InlineData(8000, 10, 800)]
    public void AnEpochHasCeilingOfNOverMBatches(int examples, int batchSize, int batches) =>
        Assert.Equal(batches, Batches.perEpoch(examples, batchSize));

    [Fact]
    public void TheLossAndInitializerFollowTheActivation()
    {
        Network<double> Ending(Activation output, int units) =>
            Network.init<double>(1UL, Shape.NewVector(2), new[] { LayerSpec.NewDense(units, output, FSharpOption<Initializer>.Some(Initializer.XavierNormal)) });
        Assert.Equal(Loss.CrossEntropy, Network.defaultLoss(Ending(Activation.Softmax, 3)));
        Assert.Equal(Loss.BinaryCrossEntropy, Network.defaultLoss(Ending(Activation.Sigmoid, 1)));
        Assert.Equal(Loss.BinaryCrossEntropy, Network.defaultLoss(Ending(Activation.Sigmoid, 3)));
        foreach (var other in new[] { Activation.Identity, Activation.Tanh, Activation.ReLU, Activation.NewLeakyReLU(0.1), Activation.Step })
        {
            Assert.Equal(Loss.Quadratic, Network.defaultLoss(Ending(other, 2)));
        }

        Assert.True(Network.isClassifier(Ending(Activation.Softmax, 3)));
        Assert.True(Network.isClassifier(Ending(Activation.Sigmoid, 1)));
        Assert.False(Network.isClassifier(Ending(Activation.Identity, 1)));
        Assert.Equal(Initializer.HeNormal, InitializerModule.forActivation(Activation.ReLU));
        Assert.Equal(Initializer.HeNormal, InitializerModule.forActivation(Activation.NewLeakyReLU(0.3)));
        Assert.Equal(Initializer.XavierNormal, InitializerModule.forActivation(Activation.Tanh));
    }
}
