using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace FunctionalBackprop.MLNet.Tests;

/// <summary>
/// Bad columns fail with an <see cref="ArgumentException"/> whose message names the column as
/// ML.NET knows it (and the row, for a bad value), before training (GetOutputSchema), when
/// training (Fit), and when a data view becomes a data set (ToDataset).
/// </summary>
public sealed class ColumnErrorTests
{
    private static readonly MLContext Ml = new(seed: 1);

    private sealed class Odd
    {
        public float Single { get; set; }

        // No VectorType: a vector of variable size.
        public float[] Ragged { get; set; } = Array.Empty<float>();

        [VectorType(3)]
        public string[] Words { get; set; } = new string[3];

        [VectorType(3)]
        public float[] Features { get; set; } = new float[3];

        [VectorType(3)]
        public double[] Doubles { get; set; } = new double[3];

        public string Name { get; set; } = string.Empty;

        public bool Flag { get; set; }

        public float Target { get; set; }
    }

    private static IDataView Data(Action<int, Odd>? change = null)
    {
        var rows = Enumerable.Range(0, 12).Select(i =>
        {
            var row = new Odd
            {
                Single = i,
                Ragged = Enumerable.Repeat(1f, 1 + (i % 3)).ToArray(),
                Words = new[] { "a", "b", "c" },
                Features = new[] { i, -i, i / 2f },
                Doubles = new[] { i, -i, i / 2.0 },
                Name = i % 2 == 0 ? "even" : "odd",
                Flag = i % 2 == 0,
                Target = i / 3f,
            };
            change?.Invoke(i, row);
            return row;
        }).ToList();
        var view = Ml.Data.LoadFromEnumerable(rows);
        return Ml.Transforms.Conversion.MapValueToKey("Label", nameof(Odd.Name)).Fit(view).Transform(view);
    }

    private static NeuralNetworkTrainer Trainer(string task, string label, string features) =>
        task switch
        {
            "multiclass" => Ml.MulticlassClassification.Trainers.NeuralNetwork(label, features, fitOptions: Synthetic.Quick(1)),
            "binary" => Ml.BinaryClassification.Trainers.NeuralNetwork(label, features, fitOptions: Synthetic.Quick(1)),
            _ => Ml.Regression.Trainers.NeuralNetwork(label, features, fitOptions: Synthetic.Quick(1)),
        };

    private static string Label(string task) => task switch { "multiclass" => "Label", "binary" => nameof(Odd.Flag), _ => nameof(Odd.Target) };

    public static TheoryData<string, string, string> BadFeatures() => new()
    {
        { "multiclass", "Missing", "no feature column 'Missing'" },
        { "binary", nameof(Odd.Single), "'Single' is Single" },
        { "regression", nameof(Odd.Ragged), "'Ragged' is Vector<Single>, a vector of variable size" },
        { "multiclass", nameof(Odd.Words), "'Words' is Vector<String" },
        { "binary", nameof(Odd.Name), "'Name' is String" },
    };

    [Theory]
    [MemberData(nameof(BadFeatures))]
    public void FitNamesABadFeatureColumn(string task, string column, string expected)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => Trainer(task, Label(task), column).Fit(Data()));
        Assert.Contains(expected, error.Message);
        Assert.Equal("trainData", error.ParamName);
    }

    [Theory]
    [MemberData(nameof(BadFeatures))]
    public void GetOutputSchemaNamesABadFeatureColumnBeforeTraining(string task, string column, string expected)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => Trainer(task, Label(task), column).GetOutputSchema(Shapes.Of(Data())));
        Assert.Contains($"'{column}'", error.Message);
        Assert.Contains(expected.Split(' ')[0] == "no" ? "no feature column" : "feature column", error.Message);
        Assert.Equal("inputSchema", error.ParamName);
    }

    public static TheoryData<string, string, string> BadLabels() => new()
    {
        { "multiclass", "Missing", "no label column 'Missing'" },
        { "multiclass", nameof(Odd.Flag), "'Flag' is Boolean; the multiclass trainer takes a key" },
        { "multiclass", nameof(Odd.Target), "'Target' is Single; the multiclass trainer takes a key" },
        { "binary", "Label", "'Label' is Key<UInt32, 0-1>; the binary trainer takes a Boolean" },
        { "binary", nameof(Odd.Target), "'Target' is Single; the binary trainer takes a Boolean" },
        { "regression", nameof(Odd.Flag), "'Flag' is Boolean; the regression trainer takes a Single or Double" },
        { "regression", nameof(Odd.Name), "'Name' is String; a label is a key" },
        { "regression", nameof(Odd.Features), "'Features' is Vector<Single, 3>; a label is a key" },
    };

    [Theory]
    [MemberData(nameof(BadLabels))]
    public void FitNamesABadLabelColumn(string task, string column, string expected)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => Trainer(task, column, nameof(Odd.Features)).Fit(Data()));
        Assert.Contains(expected, error.Message);
        Assert.Equal("trainData", error.ParamName);
    }

    [Theory]
    [MemberData(nameof(BadLabels))]
    public void GetOutputSchemaNamesABadLabelColumnBeforeTraining(string task, string column, string expected)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => Trainer(task, column, nameof(Odd.Features)).GetOutputSchema(Shapes.Of(Data())));
        // The shape before training knows a column's kind, not its key count or vector size.
        Assert.Contains(column == "Missing" ? expected : $"The label column '{column}' is ", error.Message);
        Assert.Equal("inputSchema", error.ParamName);
    }

    [Fact]
    public void APipelineFailsOnABadColumnBeforeAnyOfItsStepsTrains()
    {
        // ML.NET's estimator chain asks every step for its output schema before fitting the first.
        var pipeline = Ml.Transforms.NormalizeMinMax(nameof(Odd.Features)).Append(Trainer("binary", nameof(Odd.Target), nameof(Odd.Features)));
        var error = Assert.ThrowsAny<ArgumentException>(() => pipeline.Fit(Data()));
        Assert.Equal("inputSchema", error.ParamName);
        Assert.Contains("'Target' is Single; the binary trainer takes a Boolean", error.Message);
    }

    public static TheoryData<string, string> BadValues() => new()
    {
        { "features NaN", "The feature column 'Features' holds NaN (a missing value) at row 7, slot 1" },
        { "features ∞", "The feature column 'Features' holds ∞ at row 7, slot 1" },
        { "doubles beyond float", "The feature column 'Doubles' holds 1E+300, beyond the range of the network's real type, at row 7, slot 1" },
        { "target NaN", "The label column 'Target' holds NaN (a missing value) or an infinity at row 7" },
        { "unknown class", "The label column 'Label' holds a missing key at row 7" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void FitNamesTheColumnAndRowOfABadValue(string what, string expected)
    {
        var (task, features) = what switch
        {
            "target NaN" => ("regression", nameof(Odd.Features)),
            "unknown class" => ("multiclass", nameof(Odd.Features)),
            "doubles beyond float" => ("regression", nameof(Odd.Doubles)),
            _ => ("binary", nameof(Odd.Features)),
        };
        var data = what == "unknown class" ? UnknownClassAtRow7() : Data((i, row) =>
        {
            if (i != 7)
            {
                return;
            }

            switch (what)
            {
                case "features NaN": row.Features[1] = float.NaN; break;
                case "features ∞": row.Features[1] = float.PositiveInfinity; break;
                case "doubles beyond float": row.Doubles[1] = 1e300; break;
                default: row.Target = float.NaN; break;
            }
        });
        var error = Assert.ThrowsAny<ArgumentException>(() => Trainer(task, Label(task), features).Fit(data));
        Assert.Contains(expected, error.Message);
        Assert.Equal("trainData", error.ParamName);
    }

    [Fact]
    public void ToDatasetNamesItsParameterAndTheColumn()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => Data().ToDataset<float>(featureColumnName: nameof(Odd.Ragged)));
        Assert.Equal("data", error.ParamName);
        Assert.Contains("'Ragged'", error.Message);
    }

    [Fact]
    public void TheValidationDataIsCheckedAsTheTrainingData()
    {
        var narrow = Ml.Data.LoadFromEnumerable(Synthetic.Rows(20, seed: 1).Select(r => new { r.Flag }).ToList());
        var error = Assert.ThrowsAny<ArgumentException>(() => Trainer("binary", nameof(Odd.Flag), nameof(Odd.Features)).Fit(Data(), narrow));
        Assert.Equal("validationData", error.ParamName);
        Assert.Contains("no feature column 'Features'", error.Message);
    }

    /// <summary>The key of "Name" fitted on rows 0 … 6 only: row 7's name ("tail") has no key.</summary>
    private static IDataView UnknownClassAtRow7()
    {
        var rows = Enumerable.Range(0, 12).Select(i => new Odd { Features = new[] { i, 1f, 2f }, Name = i < 7 ? (i % 2 == 0 ? "even" : "odd") : i == 7 ? "tail" : "odd" }).ToList();
        var view = Ml.Data.LoadFromEnumerable(rows);
        var key = Ml.Transforms.Conversion.MapValueToKey("Label", nameof(Odd.Name)).Fit(Ml.Data.TakeRows(view, 7));
        return key.Transform(view);
    }
}
