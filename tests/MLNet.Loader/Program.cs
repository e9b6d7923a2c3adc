using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

// MLNet.Loader MODEL TASK FEATURES ROWS: loads the model file with a fresh MLContext, reads the
// rows (one per line, the feature vector's values separated by spaces, in the round-trip format),
// runs each through a PredictionEngine and prints its outputs, one line per row: for "multiclass"
// the scores then the predicted key, for "binary" the score, the probability and the predicted
// label, for "regression" the score. FEATURES names the model's Single vector input column.
if (args.Length != 4)
{
    Console.Error.WriteLine("usage: MLNet.Loader MODEL multiclass|binary|regression FEATURES ROWS");
    return 2;
}

var (modelPath, task, featureColumn, rowsPath) = (args[0], args[1], args[2], args[3]);
var rows = File.ReadAllLines(rowsPath)
    .Where(line => line.Length > 0)
    .Select(line => new Row { Features = line.Split(' ').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray() })
    .ToList();

var mlContext = new MLContext();
var model = mlContext.Model.Load(modelPath, out _);
var input = SchemaDefinition.Create(typeof(Row));
input[nameof(Row.Features)].ColumnName = featureColumn;
input[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Features.Length);

string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);
switch (task)
{
    case "multiclass":
        var classes = mlContext.Model.CreatePredictionEngine<Row, MulticlassOutput>(model, inputSchemaDefinition: input);
        foreach (var row in rows)
        {
            var output = classes.Predict(row);
            Console.WriteLine(string.Join(' ', output.Score.Select(Format).Append(output.PredictedLabel.ToString(CultureInfo.InvariantCulture))));
        }

        break;
    case "binary":
        var binary = mlContext.Model.CreatePredictionEngine<Row, BinaryOutput>(model, inputSchemaDefinition: input);
        foreach (var row in rows)
        {
            var output = binary.Predict(row);
            Console.WriteLine($"{Format(output.Score)} {Format(output.Probability)} {output.PredictedLabel}");
        }

        break;
    case "regression":
        var regression = mlContext.Model.CreatePredictionEngine<Row, RegressionOutput>(model, inputSchemaDefinition: input);
        foreach (var row in rows)
        {
            Console.WriteLine(Format(regression.Predict(row).Score));
        }

        break;
    default:
        Console.Error.WriteLine($"unknown task {task}");
        return 2;
}

return 0;

internal sealed class Row
{
    public float[] Features { get; set; } = Array.Empty<float>();
}

internal sealed class MulticlassOutput
{
    public float[] Score { get; set; } = Array.Empty<float>();

    public uint PredictedLabel { get; set; }
}

internal sealed class BinaryOutput
{
    public float Score { get; set; }

    public float Probability { get; set; }

    public bool PredictedLabel { get; set; }
}

internal sealed class RegressionOutput
{
    public float Score { get; set; }
}
