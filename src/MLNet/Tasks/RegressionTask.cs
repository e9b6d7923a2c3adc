using FunctionalBackprop.MLNet.Data;
using FunctionalBackprop.MLNet.Scoring;
using Microsoft.ML;

namespace FunctionalBackprop.MLNet.Tasks;

/// <summary>
/// Regression: a Single or Double label, one identity output unit, and the column
/// <c>Regression.Evaluate</c> reads: Score, the prediction.
/// </summary>
internal sealed class RegressionTask : PredictionTask
{
    /// <inheritdoc/>
    public override LabelKind LabelKind => LabelKind.Number;

    /// <inheritdoc/>
    protected override string LabelAdvice(string name) =>
        $"the regression trainer takes a Single or Double label (convert another one first, with mlContext.Transforms.Conversion.ConvertType(\"{name}\", outputKind: DataKind.Single)).";

    /// <inheritdoc/>
    public override NetworkBuilder WithOutputLayer(NetworkBuilder hidden, int classes) => hidden.Dense(1, Activation.Identity);

    /// <inheritdoc/>
    public override IEstimator<ITransformer> Scoring(MLContext ml, NeuralNetwork<float> network, string input, KeyValues? keyValues) =>
        Onnx(ml, OnnxGraph.Export(network, input, ScoreColumns.Output), input, ScoreColumns.Output)
            .Append(ml.Transforms.CustomMapping<RegressionScore.Input, RegressionScore.Result>(RegressionScore.Map, RegressionScore.Contract))
            .Append(ml.Transforms.DropColumns(ScoreColumns.Output));
}
