using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FunctionalBackprop.MLNet.Tests;

/// <summary>
/// Small data sets of five features drawn from a seed, with a label for each task: a class of
/// three ("a", "b", "c", the largest of three linear functions), a Boolean (x₀·x₁ &gt; 0, which needs a
/// hidden layer) and a number (sin x₀ + x₁²/2 + x₂/4).
/// </summary>
internal static class Synthetic
{
    public const int Width = 5;

    public sealed class Row
    {
        [VectorType(Width)]
        public float[] Features { get; set; } = new float[Width];

        public string Class { get; set; } = string.Empty;

        public bool Flag { get; set; }

        public float Target { get; set; }
    }

    /// <summary>Rows with features uniform in [−2, 2], then times <paramref name="scale"/> plus <paramref name="offset"/> (the labels see the unscaled values).</summary>
    public static List<Row> Rows(int count, int seed, float offset = 0, float scale = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var x = Enumerable.Range(0, Width).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray();
            var scores = new[] { x[0] + x[1], x[2] - x[0], x[3] - x[1] + (0.5f * x[4]) };
            return new Row
            {
                Features = x.Select(v => (v * scale) + offset).ToArray(),
                Class = "abc"[Array.IndexOf(scores, scores.Max())].ToString(),
                Flag = x[0] * x[1] > 0,
                Target = (float)(Math.Sin(x[0]) + (x[1] * x[1] / 2) + (x[2] / 4)),
            };
        }).ToList();
    }

    /// <summary>The rows as a data view, with "Label" the key of "Class" (in order of occurrence).</summary>
    public static IDataView Data(MLContext ml, IEnumerable<Row> rows)
    {
        var view = ml.Data.LoadFromEnumerable(rows);
        return ml.Transforms.Conversion.MapValueToKey("Label", nameof(Row.Class)).Fit(view).Transform(view);
    }

    /// <summary>Short training, for tests that check what the trainer writes rather than how well it learns.</summary>
    public static FitOptions<float> Quick(int epochs = 5) => new() { Epochs = epochs, BatchSize = 16, Seed = 1, Shards = 1 };

    /// <summary>Each task's trainer on the synthetic columns, by name.</summary>
    public static NeuralNetworkTrainer Trainer(MLContext ml, string task, FitOptions<float> options, ScalerKind? scaler = null, int[]? hidden = null)
    {
        NeuralNetworkOptions Options(string label) => new()
        {
            LabelColumnName = label,
            HiddenLayers = layers => (hidden ?? new[] { 16 }).Aggregate(layers, (b, units) => b.Dense(units, Activation.Tanh)),
            FitOptions = options,
            Seed = 1,
            Scaler = scaler,
        };

        return task switch
        {
            "multiclass" => ml.MulticlassClassification.Trainers.NeuralNetwork(Options("Label")),
            "binary" => ml.BinaryClassification.Trainers.NeuralNetwork(Options(nameof(Row.Flag))),
            "regression" => ml.Regression.Trainers.NeuralNetwork(Options(nameof(Row.Target))),
            _ => throw new ArgumentOutOfRangeException(nameof(task), task, "multiclass, binary or regression"),
        };
    }
}
