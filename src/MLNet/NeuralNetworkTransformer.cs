using System;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FunctionalBackprop.MLNet;

/// <summary>
/// A trained neural network as an ML.NET transformer: it adds the columns ML.NET's evaluator for
/// its task reads (Score; PredictedLabel; Probability for binary classification) and can be
/// chained, evaluated, saved with <c>mlContext.Model.Save</c> and loaded with
/// <c>mlContext.Model.Load</c>.
/// </summary>
/// <remarks>
/// It is made of ML.NET's own transformers, and saved as them: an OnnxTransformer that holds the
/// network as an ONNX model (its scaler included) and runs it in ONNX Runtime, custom mappings of
/// this package that take ONNX Runtime's outputs out of their vectors, and for multiclass a value
/// mapping from class index to the label's key. <c>mlContext.Model.Load</c> gives them back as an
/// ML.NET transformer chain (not this type): loading needs this package's assembly, ML.NET's
/// OnnxTransformer and ONNX Runtime, and no call to register anything.
/// </remarks>
public sealed class NeuralNetworkTransformer : ITransformer, IDisposable
{
    private readonly TransformerChain<ITransformer> scoring;

    internal NeuralNetworkTransformer(TransformerChain<ITransformer> scoring, FitResult<float> training)
    {
        this.scoring = scoring;
        Training = training;
    }

    /// <summary>The trained network, whose <see cref="NeuralNetwork{T}.Predict(T[])"/> and <see cref="NeuralNetwork{T}.Classify(T[])"/> give what this transformer writes.</summary>
    public NeuralNetwork<float> Network => Training.Network;

    /// <summary>What training returned: the network, each epoch's losses, why it stopped.</summary>
    public FitResult<float> Training { get; }

    /// <inheritdoc/>
    bool ITransformer.IsRowToRowMapper => ((ITransformer)scoring).IsRowToRowMapper;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => scoring.GetOutputSchema(inputSchema);

    /// <inheritdoc/>
    IRowToRowMapper ITransformer.GetRowToRowMapper(DataViewSchema inputSchema) => ((ITransformer)scoring).GetRowToRowMapper(inputSchema);

    /// <inheritdoc/>
    public IDataView Transform(IDataView input) => scoring.Transform(input);

    /// <summary>Saves the ML.NET transformers it is made of, as ML.NET saves a transformer chain.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)scoring).Save(ctx);

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => scoring.Dispose();
}
