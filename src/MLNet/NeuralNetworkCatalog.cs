using System;
using System.Linq;
using System.Threading;
using FunctionalBackprop.MLNet.Tasks;
using Microsoft.ML;

namespace FunctionalBackprop.MLNet;

/// <summary>
/// Neural-network trainers in ML.NET's trainer catalogs, beside its own:
/// <code>
/// var pipeline = mlContext.Transforms.Concatenate("Features", columns)
///     .Append(mlContext.Transforms.Conversion.MapValueToKey("Label"))
///     .Append(mlContext.MulticlassClassification.Trainers.NeuralNetwork(hiddenLayers: new[] { 64 }));
/// </code>
/// Each takes the layers (hidden sizes and their activation, or a builder callback in
/// <see cref="NeuralNetworkOptions.HiddenLayers"/>), the <see cref="FitOptions{T}"/> of training and
/// ML.NET's column names, and adds the output layer its task needs. Progress and cancellation are
/// given here, since ML.NET's <c>Fit</c> takes neither; they act as they do for
/// <see cref="NeuralNetwork{T}.Fit(Dataset{T}, FitOptions{T}?, IProgress{EpochReport}?, CancellationToken)"/>.
/// </summary>
public static class NeuralNetworkCatalog
{
    /// <summary>
    /// A multiclass classifier: the hidden layers, then a softmax layer of one unit per class of
    /// the key label; trained with cross-entropy unless <paramref name="fitOptions"/> names another loss.
    /// Writes Score (the class probabilities, in key order) and PredictedLabel (a key like the label).
    /// </summary>
    /// <param name="catalog">ML.NET's multiclass trainers (<c>mlContext.MulticlassClassification.Trainers</c>).</param>
    /// <param name="labelColumnName">The label: a key of 2 or more classes, as MapValueToKey makes it.</param>
    /// <param name="featureColumnName">The features: a vector of Single or Double of known size.</param>
    /// <param name="hiddenLayers">The hidden layers' sizes, input side first; one layer of 100 when null, none when empty.</param>
    /// <param name="activation">The hidden layers' activation; ReLU when null.</param>
    /// <param name="fitOptions">How to train; <see cref="FitOptions{T}"/>'s defaults when null.</param>
    /// <param name="seed">Seeds the initial weights.</param>
    /// <param name="progress">Told after every epoch (and batch, for a <see cref="TrainingProgress"/>), on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches; the transformer then holds what was learned.</param>
    public static NeuralNetworkTrainer NeuralNetwork(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", int[]? hiddenLayers = null, Activation? activation = null,
        FitOptions<float>? fitOptions = null, long seed = 0, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        NeuralNetwork(catalog, Options(labelColumnName, featureColumnName, hiddenLayers, activation, fitOptions, seed), progress, cancellationToken);

    /// <summary>A multiclass classifier built and trained as the options say (see the other overload).</summary>
    /// <param name="catalog">ML.NET's multiclass trainers.</param>
    /// <param name="options">The columns, hidden layers (a builder callback), training options and seed.</param>
    /// <param name="progress">Told after every epoch (and batch), on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public static NeuralNetworkTrainer NeuralNetwork(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        NeuralNetworkOptions options, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new NeuralNetworkTrainer(new MulticlassTask(), options, progress, cancellationToken);
    }

    /// <summary>
    /// A binary classifier: the hidden layers, then one sigmoid unit; trained with binary
    /// cross-entropy unless <paramref name="fitOptions"/> names another loss. Writes Score (the
    /// output unit's z), Probability (σ(z)) and PredictedLabel (σ(z) ≥ ½).
    /// </summary>
    /// <param name="catalog">ML.NET's binary trainers (<c>mlContext.BinaryClassification.Trainers</c>).</param>
    /// <param name="labelColumnName">The label: a Boolean.</param>
    /// <param name="featureColumnName">The features: a vector of Single or Double of known size.</param>
    /// <param name="hiddenLayers">The hidden layers' sizes, input side first; one layer of 100 when null, none when empty.</param>
    /// <param name="activation">The hidden layers' activation; ReLU when null.</param>
    /// <param name="fitOptions">How to train; <see cref="FitOptions{T}"/>'s defaults when null.</param>
    /// <param name="seed">Seeds the initial weights.</param>
    /// <param name="progress">Told after every epoch (and batch, for a <see cref="TrainingProgress"/>), on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches; the transformer then holds what was learned.</param>
    public static NeuralNetworkTrainer NeuralNetwork(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", int[]? hiddenLayers = null, Activation? activation = null,
        FitOptions<float>? fitOptions = null, long seed = 0, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        NeuralNetwork(catalog, Options(labelColumnName, featureColumnName, hiddenLayers, activation, fitOptions, seed), progress, cancellationToken);

    /// <summary>A binary classifier built and trained as the options say (see the other overload).</summary>
    /// <param name="catalog">ML.NET's binary trainers.</param>
    /// <param name="options">The columns, hidden layers (a builder callback), training options and seed.</param>
    /// <param name="progress">Told after every epoch (and batch), on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public static NeuralNetworkTrainer NeuralNetwork(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        NeuralNetworkOptions options, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new NeuralNetworkTrainer(new BinaryTask(), options, progress, cancellationToken);
    }

    /// <summary>
    /// A regression: the hidden layers, then one identity unit; trained with the quadratic loss.
    /// Writes Score, the prediction.
    /// </summary>
    /// <param name="catalog">ML.NET's regression trainers (<c>mlContext.Regression.Trainers</c>).</param>
    /// <param name="labelColumnName">The label: a Single or Double.</param>
    /// <param name="featureColumnName">The features: a vector of Single or Double of known size.</param>
    /// <param name="hiddenLayers">The hidden layers' sizes, input side first; one layer of 100 when null, none when empty.</param>
    /// <param name="activation">The hidden layers' activation; ReLU when null.</param>
    /// <param name="fitOptions">How to train; <see cref="FitOptions{T}"/>'s defaults when null.</param>
    /// <param name="seed">Seeds the initial weights.</param>
    /// <param name="progress">Told after every epoch (and batch, for a <see cref="TrainingProgress"/>), on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches; the transformer then holds what was learned.</param>
    public static NeuralNetworkTrainer NeuralNetwork(this RegressionCatalog.RegressionTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", int[]? hiddenLayers = null, Activation? activation = null,
        FitOptions<float>? fitOptions = null, long seed = 0, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        NeuralNetwork(catalog, Options(labelColumnName, featureColumnName, hiddenLayers, activation, fitOptions, seed), progress, cancellationToken);

    /// <summary>A regression built and trained as the options say (see the other overload).</summary>
    /// <param name="catalog">ML.NET's regression trainers.</param>
    /// <param name="options">The columns, hidden layers (a builder callback), training options and seed.</param>
    /// <param name="progress">Told after every epoch (and batch), on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public static NeuralNetworkTrainer NeuralNetwork(this RegressionCatalog.RegressionTrainers catalog,
        NeuralNetworkOptions options, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new NeuralNetworkTrainer(new RegressionTask(), options, progress, cancellationToken);
    }

    /// <summary>The options of the simple overloads, checked in the caller's terms.</summary>
    private static NeuralNetworkOptions Options(string labelColumnName, string featureColumnName, int[]? hiddenLayers, Activation? activation, FitOptions<float>? fitOptions, long seed)
    {
        ArgumentException.ThrowIfNullOrEmpty(labelColumnName);
        ArgumentException.ThrowIfNullOrEmpty(featureColumnName);
        var sizes = hiddenLayers ?? new[] { 100 };
        var bad = Array.FindIndex(sizes, size => size < 1);
        if (bad >= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(hiddenLayers), sizes[bad], $"hiddenLayers[{bad}] is {sizes[bad]}; every layer needs at least one unit.");
        }

        var sigma = activation ?? Activation.ReLU;
        var layers = sizes.ToArray();
        return new NeuralNetworkOptions
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            HiddenLayers = builder => layers.Aggregate(builder, (b, units) => b.Dense(units, sigma)),
            FitOptions = fitOptions ?? new FitOptions<float>(),
            Seed = seed,
        };
    }
}
