using FunctionalBackprop.MLNet.Data;
using FunctionalBackprop.MLNet.Scoring;
using Microsoft.ML;

namespace FunctionalBackprop.MLNet.Tasks;

/// <summary>
/// Binary classification: a Boolean label, one sigmoid output unit, and the columns
/// <c>BinaryClassification.Evaluate</c> reads: Score (z, the logit), Probability (σ(z)) and
/// PredictedLabel (σ(z) ≥ ½, as the network classifies).
/// </summary>
internal sealed class BinaryTask : PredictionTask
{
    /// <inheritdoc/>
    public override LabelKind LabelKind => LabelKind.Boolean;

    /// <inheritdoc/>
    protected override string LabelAdvice(string name) =>
        $"the binary trainer takes a Boolean label (convert another one first, say with mlContext.Transforms.Expression(\"{name}\", \"x => x > 0\", \"{name}\"); for a key of several classes, use mlContext.MulticlassClassification.Trainers.NeuralNetwork).";

    /// <inheritdoc/>
    public override NetworkBuilder WithOutputLayer(NetworkBuilder hidden, int classes) => hidden.Dense(1, Activation.Sigmoid);

    /// <inheritdoc/>
    public override IEstimator<ITransformer> Scoring(MLContext ml, NeuralNetwork<float> network, string input, KeyValues? keyValues) =>
        Onnx(ml, OnnxGraph.Export(network, input, ScoreColumns.Output, ScoreColumns.Logit), input, ScoreColumns.Output, ScoreColumns.Logit)
            .Append(ml.Transforms.CustomMapping<BinaryScore.Input, BinaryScore.Result>(BinaryScore.Map, BinaryScore.Contract))
            .Append(ml.Transforms.DropColumns(ScoreColumns.Output, ScoreColumns.Logit));
}
