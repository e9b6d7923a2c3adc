using System;

namespace FunctionalBackprop.MLNet;

/// <summary>
/// How an ML.NET neural-network trainer builds and trains its network. The defaults work out of
/// the box: ML.NET's column names, one hidden layer of 100 ReLU units (scikit-learn's
/// <c>MLPClassifier</c> default), <see cref="FitOptions{T}"/>'s defaults (30 epochs of mini-batches
/// of 10, Adam with α = 0.001, the loss that suits the output layer), weights drawn from seed 0.
/// <code>
/// var options = new NeuralNetworkOptions
/// {
///     HiddenLayers = layers => layers.Dense(64, Activation.ReLU).Dense(32, Activation.Tanh),
///     FitOptions = new FitOptions&lt;float&gt; { Epochs = 50, BatchSize = 32, Seed = 1 },
///     Seed = 1,
/// };
/// </code>
/// </summary>
public sealed record NeuralNetworkOptions
{
    private readonly string labelColumnName = "Label";
    private readonly string featureColumnName = "Features";
    private readonly Func<NetworkBuilder, NetworkBuilder> hiddenLayers = layers => layers.Dense(100, Activation.ReLU);
    private readonly FitOptions<float> fitOptions = new();

    /// <summary>The label column: a key for multiclass classification (as MapValueToKey makes it), a Boolean for binary classification, a Single or Double for regression. "Label" by default.</summary>
    public string LabelColumnName
    {
        get => labelColumnName;
        init => labelColumnName = string.IsNullOrEmpty(value) ? throw new ArgumentException("The label column's name is empty.", nameof(LabelColumnName)) : value;
    }

    /// <summary>The feature column: a vector of Single or Double of known size, as Concatenate makes it. "Features" by default.</summary>
    public string FeatureColumnName
    {
        get => featureColumnName;
        init => featureColumnName = string.IsNullOrEmpty(value) ? throw new ArgumentException("The feature column's name is empty.", nameof(FeatureColumnName)) : value;
    }

    /// <summary>
    /// Adds the hidden layers to a builder for the feature column's width and returns it; the
    /// trainer then adds the output layer its task needs (softmax over the classes, one sigmoid
    /// unit, one identity unit). By default one layer of 100 ReLU units; <c>layers => layers</c> adds
    /// none (a linear or logistic model).
    /// </summary>
    public Func<NetworkBuilder, NetworkBuilder> HiddenLayers
    {
        get => hiddenLayers;
        init => hiddenLayers = value ?? throw new ArgumentNullException(nameof(HiddenLayers));
    }

    /// <summary>How the network is trained: epochs, batch size, loss, optimizer, shuffling seed, stopping rules. Its <see cref="FitOptions{T}.ValidationData"/> is set by <see cref="NeuralNetworkTrainer.Fit(Microsoft.ML.IDataView, Microsoft.ML.IDataView)"/> when that is given a validation data view.</summary>
    public FitOptions<float> FitOptions
    {
        get => fitOptions;
        init => fitOptions = value ?? throw new ArgumentNullException(nameof(FitOptions));
    }

    /// <summary>Seeds the initial weights: the same seed, data and options give the same network, bit for bit (see <see cref="FitOptions{T}.Shards"/>).</summary>
    public long Seed { get; init; }

    /// <summary>
    /// A scaler to fit on the training features and keep in the network (and so in the saved
    /// model), so that it takes raw features; null (the default) for none, as when the pipeline
    /// normalizes the features itself.
    /// </summary>
    public ScalerKind? Scaler { get; init; }
}
