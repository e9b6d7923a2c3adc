using System;
using System.Threading;
using FunctionalBackprop.MLNet.Data;
using FunctionalBackprop.MLNet.Scoring;
using FunctionalBackprop.MLNet.Tasks;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FunctionalBackprop.MLNet;

/// <summary>
/// An ML.NET estimator that trains a FunctionalBackprop network: made by the
/// <c>NeuralNetwork</c> extension methods of ML.NET's trainer catalogs
/// (<see cref="NeuralNetworkCatalog"/>), appended to a pipeline like any ML.NET trainer.
/// <see cref="Fit(IDataView)"/> reads the feature and label columns through a cursor, builds the
/// network (the hidden layers of <see cref="NeuralNetworkOptions.HiddenLayers"/> and the task's
/// output layer), trains it with <see cref="NeuralNetwork{T}.Fit(Dataset{T}, FitOptions{T}?, IProgress{EpochReport}?, CancellationToken)"/>
/// and returns it as a <see cref="NeuralNetworkTransformer"/>.
/// </summary>
public sealed class NeuralNetworkTrainer : IEstimator<NeuralNetworkTransformer>
{
    private readonly PredictionTask task;
    private readonly IProgress<EpochReport>? progress;
    private readonly CancellationToken cancellationToken;

    internal NeuralNetworkTrainer(PredictionTask task, NeuralNetworkOptions options, IProgress<EpochReport>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.task = task;
        Options = options;
        this.progress = progress;
        this.cancellationToken = cancellationToken;
    }

    /// <summary>The layers, columns and training options.</summary>
    public NeuralNetworkOptions Options { get; }

    /// <summary>Trains a network on the data view's rows.</summary>
    /// <param name="input">The training data: its feature and label columns are read, each row once.</param>
    /// <returns>The trained network as a transformer.</returns>
    /// <exception cref="ArgumentException">A column is missing or of another type, or a row holds a value no example can be made of; the message names the column (and the row).</exception>
    /// <exception cref="OperationCanceledException">The token given to the trainer was cancelled before training began (cancelled later, training stops between batches and the transformer holds what was learned).</exception>
    /// <exception cref="TrainingDivergedException{T}">The loss stopped being finite.</exception>
    public NeuralNetworkTransformer Fit(IDataView input) => Train(input, null);

    /// <summary>
    /// Trains a network on the training data, measuring the validation data after every epoch: its
    /// loss (and accuracy) appear in the progress and history, and
    /// <see cref="FitOptions{T}.EarlyStoppingPatience"/> stops on it.
    /// </summary>
    /// <param name="trainData">The training data.</param>
    /// <param name="validationData">Data of the same columns, measured after every epoch.</param>
    /// <returns>The trained network (the best epoch's, when stopped early) as a transformer.</returns>
    public NeuralNetworkTransformer Fit(IDataView trainData, IDataView validationData)
    {
        ArgumentNullException.ThrowIfNull(validationData);
        return Train(trainData, validationData);
    }

    /// <summary>
    /// The columns the trained transformer will add, before training: Score, PredictedLabel and
    /// (binary) Probability, of the types ML.NET's evaluators read.
    /// </summary>
    /// <param name="inputSchema">The shape of the data the trainer will be given.</param>
    /// <exception cref="ArgumentException">The feature or label column is missing or of a type the task does not take; the message names it.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        FeatureColumn.Check(inputSchema, Options.FeatureColumnName, nameof(inputSchema));
        var label = task.Label(inputSchema, Options.LabelColumnName, nameof(inputSchema));
        ColumnNames.TryFind(inputSchema, Options.FeatureColumnName, out var features);

        // The same transforms as a trained network's, for a network of the same output: ML.NET's
        // own estimators then say what they will write. (The placeholder's ONNX Runtime session is
        // left to the garbage collector: an estimator keeps its transformer out of reach.)
        var placeholder = task.WithOutputLayer(NeuralNetwork.Create(1), 2).Build<float>(0);
        return Scoring(placeholder, features.ItemType == NumberDataViewType.Double, KeyValues.Placeholder(label)).GetOutputSchema(inputSchema);
    }

    private NeuralNetworkTransformer Train(IDataView trainData, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        var features = FeatureColumn.Of(trainData.Schema, Options.FeatureColumnName, nameof(trainData));
        var label = task.Label(trainData.Schema, Options.LabelColumnName, nameof(trainData));
        var data = DataViewReader.Read<float>(trainData, features, label, nameof(trainData));
        var fitOptions = Options.FitOptions;
        if (validationData is not null)
        {
            var validationFeatures = FeatureColumn.Of(validationData.Schema, Options.FeatureColumnName, nameof(validationData));
            var validationLabel = task.Label(validationData.Schema, Options.LabelColumnName, nameof(validationData));
            if (validationFeatures.Width != features.Width || validationLabel.ClassCount != label.ClassCount)
            {
                throw new ArgumentException(
                    $"The validation data's columns '{features.Name}' ({validationFeatures.Width} features) and '{label.Name}' ({validationLabel.Type}) do not match the training data's ({features.Width} features, {label.Type}).",
                    nameof(validationData));
            }

            fitOptions = fitOptions with { ValidationData = DataViewReader.Read<float>(validationData, validationFeatures, validationLabel, nameof(validationData)) };
        }

        var network = Network(features.Width, label.ClassCount);
        if (Options.Scaler is { } kind)
        {
            network = network.WithScaler(kind == ScalerKind.Standard ? Scaler.FitStandard(data) : Scaler.FitMinMax(data));
        }

        var training = network.Fit(data, fitOptions, progress, cancellationToken);
        var keyValues = label.Kind == LabelKind.Key ? KeyValues.Of(trainData.Schema[label.Name]) : null;
        var scoring = Scoring(training.Network, features.IsDouble, keyValues).Fit(trainData);
        return new NeuralNetworkTransformer(new TransformerChain<ITransformer>(scoring), training);
    }

    /// <summary>The untrained network: the caller's hidden layers on the feature width, then the task's output layer.</summary>
    private NeuralNetwork<float> Network(int inputWidth, int classes)
    {
        var hidden = Options.HiddenLayers(global::FunctionalBackprop.NeuralNetwork.Create(inputWidth))
            ?? throw new InvalidOperationException("NeuralNetworkOptions.HiddenLayers returned null; it returns the builder it is given, with the hidden layers added.");
        if (hidden.InputWidth != inputWidth)
        {
            throw new InvalidOperationException(
                $"NeuralNetworkOptions.HiddenLayers returned a builder for {hidden.InputWidth} inputs; the feature column '{Options.FeatureColumnName}' has {inputWidth}. Add the layers to the builder it is given.");
        }

        return task.WithOutputLayer(hidden, classes).Build<float>(Options.Seed);
    }

    /// <summary>The ML.NET transforms that run the network on the feature column and write the task's columns.</summary>
    private IEstimator<ITransformer> Scoring(NeuralNetwork<float> network, bool doubleFeatures, KeyValues? keyValues)
    {
        var ml = new MLContext();
        if (!doubleFeatures)
        {
            return task.Scoring(ml, network, Options.FeatureColumnName, keyValues);
        }

        // The network computes in float32, as ML.NET does: Double features are rounded to Single
        // first, as the examples it was trained on were.
        return ml.Transforms.Conversion.ConvertType(ScoreColumns.Features, Options.FeatureColumnName, DataKind.Single)
            .Append(task.Scoring(ml, network, ScoreColumns.Features, keyValues))
            .Append(ml.Transforms.DropColumns(ScoreColumns.Features));
    }
}
