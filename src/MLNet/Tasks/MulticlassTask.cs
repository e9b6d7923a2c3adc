using FunctionalBackprop.MLNet.Data;
using FunctionalBackprop.MLNet.Scoring;
using Microsoft.ML;

namespace FunctionalBackprop.MLNet.Tasks;

/// <summary>
/// Multiclass classification: a key label of K classes, a softmax output layer of K units, and
/// the columns <c>MulticlassClassification.Evaluate</c> reads: Score (the K probabilities, in key
/// order) and PredictedLabel (a key like the label, with its key values).
/// </summary>
internal sealed class MulticlassTask : PredictionTask
{
    /// <inheritdoc/>
    public override LabelKind LabelKind => LabelKind.Key;

    /// <inheritdoc/>
    protected override string LabelAdvice(string name) =>
        $"the multiclass trainer takes a key of 2 or more classes, as mlContext.Transforms.Conversion.MapValueToKey(\"{name}\") makes it (for a Boolean label, use mlContext.BinaryClassification.Trainers.NeuralNetwork).";

    /// <inheritdoc/>
    public override NetworkBuilder WithOutputLayer(NetworkBuilder hidden, int classes) => hidden.Dense(classes, Activation.Softmax);

    /// <inheritdoc/>
    public override IEstimator<ITransformer> Scoring(MLContext ml, NeuralNetwork<float> network, string input, KeyValues? keyValues) =>
        Onnx(ml, OnnxGraph.Export(network, input, ScoreColumns.Score), input, ScoreColumns.Score)
            .Append(ml.Transforms.CustomMapping<ClassIndex.Input, ClassIndex.Result>(ClassIndex.Map, ClassIndex.Contract))
            .Append(ClassKeys.Mapping(ml, network.OutputWidth, keyValues))
            .Append(ml.Transforms.DropColumns(ScoreColumns.ClassIndex));
}
