using System;
using System.IO;
using Xunit;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>
/// Values beyond the real type's range: the facade says which value overflowed instead of
/// returning ∞ or NaN, and CSV numbers that float cannot hold are a FormatException like any
/// other bad number in the text.
/// </summary>
public sealed class ExtremeInputTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("fbp-extreme-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>One identity unit, z = 2·x₁ + 2·x₂.</summary>
    private static NeuralNetwork<T> Doubling<T>()
        where T : System.Numerics.IFloatingPointIeee754<T>
    {
        var two = T.CreateTruncating(2.0);
        var layer = Core.Dense.create(Core.Matrix.ofColumnMajor(1, 2, new[] { two, two }), Core.Matrix.ofColumnMajor(1, 1, new[] { T.Zero }), Core.Activation.Identity);
        return new NeuralNetwork<T>(Core.Network.ofDense(new[] { layer }));
    }

    [Fact]
    public void AnOutputBeyondFloatsRangeIsAnOverflowExceptionNamingTheEntry()
    {
        var network = Doubling<float>();
        Assert.Equal(new[] { 8f }, network.Predict(new[] { 2f, 2f }));
        var e = Assert.Throws<OverflowException>(() => network.Predict(new[] { 3e38f, 3e38f }));
        Assert.Contains("Output 0 of input is Infinity", e.Message);
        Assert.Contains("Single", e.Message);
        Assert.Contains("Output 0 of inputs[1] is -Infinity", Assert.Throws<OverflowException>(() => network.Predict(new[] { new[] { 1f, 1f }, new[] { -3e38f, -3e38f } })).Message);
    }

    [Fact]
    public void ALossOrGradientBeyondDoublesRangeIsAnOverflowException()
    {
        var network = Doubling<double>();
        var inputs = new[] { new[] { 1e300, 1e300 } };
        var targets = new[] { new[] { 0.0 } };
        // The output, 4e300, is finite; half its square is not.
        Assert.Equal(4e300, network.Predict(inputs[0])[0]);
        Assert.Contains($"The loss is {double.PositiveInfinity}", Assert.Throws<OverflowException>(() => network.ComputeGradients(inputs, targets, Loss.Quadratic)).Message);
        Assert.Throws<OverflowException>(() => network.Evaluate(inputs, targets, Loss.Quadratic));
        // Inputs of 1e150: the loss, ½(4e150)² = 8e300, is finite, and so is ∂C/∂w = (a − y)·x = 4e150·1e150,
        // which is the same double products made by hand (the 1 × 1 products have one rounding order).
        var g = network.ComputeGradients(new[] { new[] { 1e150, 1e150 } }, targets, Loss.Quadratic);
        var a = 2.0 * 1e150 + 2.0 * 1e150;
        Assert.Equal(0.5 * a * a, g.Loss);
        Assert.Equal(a * 1e150, g.Layers[0].Weights[0, 0]);
        Assert.Equal(a * 1e150, g.Layers[0].Weights[0, 1]);
        Assert.Equal(a, g.Layers[0].Biases[0]);
    }

    [Fact]
    public void CsvNumbersThatFloatCannotHoldAreAFormatException()
    {
        var features = Path.Combine(folder, "features.csv");
        File.WriteAllText(features, "a,b,label\n1,2,x\n1e300,3,y\n");
        Assert.Equal(2, CsvData.LoadClassification<double>(features).Data.Count);
        var e = Assert.Throws<FormatException>(() => CsvData.LoadClassification<float>(features));
        Assert.Contains("Line 3, column 1 (a): 1E+300 is outside the range of Single", e.Message);
        Assert.Contains("Single", e.Message);

        var targets = Path.Combine(folder, "targets.csv");
        File.WriteAllText(targets, "a,y\n1,2\n3,-1e39\n");
        Assert.Equal(2, CsvData.LoadRegression<double>(targets).Data.Count);
        Assert.Contains("Line 3, column 2 (y)", Assert.Throws<FormatException>(() => CsvData.LoadRegression<float>(targets)).Message);
    }
}
