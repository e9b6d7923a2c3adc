using System;
using System.Collections.Generic;
using System.Linq;

namespace FunctionalBackprop.Testing;

/// <summary>IEEE bits, for the tests that demand the same results bit for bit.</summary>
internal static class Bits
{
    /// <summary>Each value's bits.</summary>
    public static long[] Of(IEnumerable<double> values) => values.Select(BitConverter.DoubleToInt64Bits).ToArray();

    /// <summary>A training history's numbers (losses and accuracies; times left out), as bits.</summary>
    public static long[] Of(IEnumerable<EpochReport> history) =>
        Of(history.SelectMany(r => new[] { r.TrainingLoss, r.ValidationLoss ?? double.NaN, r.ValidationAccuracy ?? double.NaN }));

    /// <summary>Every weight and bias of the network's layers that have them, layer by layer, as bits.</summary>
    public static long[] Of(NeuralNetwork<double> network) =>
        Of(Enumerable.Range(0, network.Layers.Count)
            .Where(i => network.Layers[i].Kind == LayerKind.Dense)
            .SelectMany(i => network.GetWeights(i).Cast<double>().Concat(network.GetBiases(i))));

    /// <summary>A gradient's loss and entries (layers without parameters contribute none), as bits.</summary>
    public static long[] Of(NetworkGradients<double> gradients) =>
        Of(gradients.Layers.SelectMany(g => g.Weights.Cast<double>().Concat(g.Biases)).Prepend(gradients.Loss));

    /// <summary>Outputs, one row per example, as bits.</summary>
    public static long[] Of(double[][] outputs) => Of(outputs.SelectMany(row => row));
}
