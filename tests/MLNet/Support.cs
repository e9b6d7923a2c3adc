using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace FunctionalBackprop.MLNet.Tests;

/// <summary>The tests that run README's code from the repository root (they change the process's working directory), one after another.</summary>
[CollectionDefinition(Name)]
public sealed class ReadmeCollection
{
    public const string Name = "README examples, run from the repository root";
}

/// <summary>
/// How close ML.NET's outputs (ONNX Runtime's float32 arithmetic) are to the network's own, by the
/// measure of the ONNX tests (tests/Unit/Onnx/OnnxTesting.cs): the difference relative to the scale
/// the outputs are computed at, the forward pass in absolute values ẑˡ = |Wˡ| ẑˡ⁻¹ + |bˡ| from the
/// scaled input's |x|, largest over the output units (at least the largest output). Rounding errors
/// grow with those sums, not with an output that cancels to near 0.
/// </summary>
internal static class Agreement
{
    /// <summary>The tolerance: 10⁻⁶ for float32, a few dozen ulps.</summary>
    public const double Relative = 1e-6;

    /// <summary>max |actualₖ − expectedₖ| / max(scale, max |expectedₖ|) for one example.</summary>
    public static double Difference(NeuralNetwork<float> network, float[] input, float[] actual, float[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = Math.Max(Scale(network, input), expected.Max(v => Math.Abs((double)v)));
        var difference = actual.Zip(expected, (a, b) => Math.Abs((double)a - b)).Max();
        return difference == 0 ? 0 : difference / scale;
    }

    /// <summary>Fails unless the outputs agree within <see cref="Relative"/>, naming the example and the outputs.</summary>
    public static void Close(NeuralNetwork<float> network, float[] input, float[] actual, float[] expected, string where)
    {
        var difference = Difference(network, input, actual, expected);
        Assert.True(difference <= Relative,
            $"{where}: ML.NET gave [{string.Join(", ", actual.Select(v => v.ToString("R")))}], the network [{string.Join(", ", expected.Select(v => v.ToString("R")))}]: {difference:E2} relative to the scale.");
    }

    private static double Scale(NeuralNetwork<float> network, float[] input)
    {
        var scaler = network.Scaler;
        var magnitude = input.Select((v, i) => Math.Abs(scaler is null ? v : (v - scaler.Offsets[i]) / scaler.Scales[i])).ToArray();
        for (var l = 0; l < network.Layers.Count; l++)
        {
            var w = network.GetWeights(l);
            var b = network.GetBiases(l);
            var previous = magnitude;
            magnitude = Enumerable.Range(0, w.GetLength(0)).Select(j => Math.Abs((double)b[j]) + Enumerable.Range(0, w.GetLength(1)).Sum(k => Math.Abs((double)w[j, k]) * previous[k])).ToArray();
        }

        return magnitude.Max();
    }
}

/// <summary>
/// Schema shapes, which estimators are given before training. ML.NET makes them for its estimator
/// chains with SchemaShape.Create, which it keeps internal; the tests call it the same way.
/// </summary>
internal static class Shapes
{
    private static readonly System.Reflection.MethodInfo Create = typeof(Microsoft.ML.SchemaShape).GetMethod(
        "Create", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static, new[] { typeof(Microsoft.ML.DataViewSchema) })
        ?? throw new InvalidOperationException("ML.NET has no SchemaShape.Create(DataViewSchema) any more.");

    /// <summary>The shape of a data view's schema, as an estimator chain gives it to its steps.</summary>
    public static Microsoft.ML.SchemaShape Of(Microsoft.ML.IDataView data) => (Microsoft.ML.SchemaShape)Create.Invoke(null, new object[] { data.Schema })!;
}
