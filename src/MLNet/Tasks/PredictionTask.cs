using System;
using FunctionalBackprop.MLNet.Data;
using FunctionalBackprop.MLNet.Scoring;
using Microsoft.ML;

namespace FunctionalBackprop.MLNet.Tasks;

/// <summary>
/// What differs between the three trainers: the label they take, the output layer they add after
/// the caller's hidden layers, and the ML.NET transforms that turn the network's output into the
/// columns ML.NET's evaluator for the task reads. One subclass per task, each in its own file.
/// </summary>
internal abstract class PredictionTask
{
    /// <summary>The label kind the task takes.</summary>
    public abstract LabelKind LabelKind { get; }

    /// <summary>What the message says when the label is of another kind: which kind to give, or which trainer to use.</summary>
    protected abstract string LabelAdvice(string name);

    /// <summary>The data view's label column, checked for the task.</summary>
    /// <exception cref="ArgumentException">No such column, or one of another kind; the message names it.</exception>
    public LabelColumn Label(Microsoft.ML.DataViewSchema schema, string name, string parameter)
    {
        var label = LabelColumn.Of(schema, name, parameter);
        return label.Kind == LabelKind ? label : throw new ArgumentException($"The label column '{name}' is {label.Type}; {LabelAdvice(name)}", parameter);
    }

    /// <summary>The label column of a schema shape, checked for the task before training.</summary>
    public SchemaShape.Column Label(SchemaShape shape, string name, string parameter)
    {
        if (!ColumnNames.TryFind(shape, name, out var column))
        {
            throw new ArgumentException($"The data has no label column '{name}' (labelColumnName). Its columns: {ColumnNames.List(shape)}.", parameter);
        }

        var kind = column switch
        {
            { Kind: not SchemaShape.Column.VectorKind.Scalar } => (LabelKind?)null,
            { IsKey: true } => LabelKind.Key,
            { ItemType: Microsoft.ML.Data.BooleanDataViewType } => LabelKind.Boolean,
            _ when column.ItemType == Microsoft.ML.Data.NumberDataViewType.Single || column.ItemType == Microsoft.ML.Data.NumberDataViewType.Double => LabelKind.Number,
            _ => null,
        };
        return kind == LabelKind ? column : throw new ArgumentException($"The label column '{name}' is {ColumnNames.Describe(column)}; {LabelAdvice(name)}", parameter);
    }

    /// <summary>The caller's hidden layers followed by the task's output layer.</summary>
    public abstract NetworkBuilder WithOutputLayer(NetworkBuilder hidden, int classes);

    /// <summary>
    /// The transforms after the features: the network as an ONNX model reading
    /// <paramref name="input"/>, then the mappings to the task's columns, then the columns used on
    /// the way dropped.
    /// </summary>
    /// <param name="ml">The context whose catalogs make the transforms.</param>
    /// <param name="network">The trained network (or, before training, one of the same output).</param>
    /// <param name="input">The Single vector column the network reads.</param>
    /// <param name="keyValues">The label key's values (multiclass), null when it has none.</param>
    public abstract IEstimator<ITransformer> Scoring(MLContext ml, NeuralNetwork<float> network, string input, KeyValues? keyValues);

    /// <summary>The ONNX model of the network as an ML.NET transform reading <paramref name="input"/> and writing <paramref name="outputs"/>.</summary>
    protected static IEstimator<ITransformer> Onnx(MLContext ml, byte[] model, string input, params string[] outputs) =>
        ml.Transforms.ApplyOnnxModel(outputs, new[] { input }, new System.IO.MemoryStream(model, writable: false));
}
