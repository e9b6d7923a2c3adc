using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace FunctionalBackprop.Samples;

/// <summary>What the command line asked for, turned into the library's objects.</summary>
internal sealed record Settings(
    string DataFolder,
    string Network,
    IReadOnlyList<int> Hidden,
    string Activation,
    string Loss,
    string Optimizer,
    double LearningRate,
    double Momentum,
    string Schedule,
    double Decay,
    string Initializer,
    int Epochs,
    int BatchSize,
    int Shards,
    long Seed,
    double L2,
    double Dropout,
    int Shift,
    bool Float32,
    string ModelPath,
    string PlotPath,
    string? OnnxPath,
    string? CheckpointPath,
    (int Every, ScheduleUnit Unit)? CheckpointEvery,
    string? ResumePath)
{
    public static readonly string[] Networks = { "dense", "lenet" };
    public static readonly string[] Activations = { "sigmoid", "tanh", "relu", "leaky-relu" };
    public static readonly string[] Losses = { "quadratic", "cross-entropy", "binary-cross-entropy" };
    public static readonly string[] Optimizers = { "sgd", "momentum", "heavy-ball", "nesterov", "adagrad", "rmsprop", "adam", "adamw" };
    public static readonly string[] Schedules = { "constant", "inverse-time", "step", "exponential", "cosine" };
    public static readonly string[] Initializers = { "standard-normal", "scaled-normal", "xavier", "he", "small-uniform" };

    /// <summary>The checkpoints saved while the run goes on (--checkpoint with --checkpoint-every), if any.</summary>
    public CheckpointSchedule? Checkpoints =>
        CheckpointPath is { } path && CheckpointEvery is { } interval ? new CheckpointSchedule(path, interval.Every, interval.Unit) : null;

    /// <summary>784-30-10 and so on, or LeNet-5.</summary>
    public string Architecture => IsLeNet ? "LeNet-5" : string.Join("-", Hidden.Prepend(784).Append(10));

    /// <summary>Whether the network is LeNet-5 on images.</summary>
    public bool IsLeNet => Network == "lenet";

    /// <summary>
    /// The network before it is built: LeNet-5 on 1×28×28 images (PyTorch's layout, W7's network),
    /// with the hidden activation and initializer; or 784 inputs, the hidden dense layers (each
    /// followed by dropout when asked) and 10 outputs.
    /// </summary>
    public NetworkBuilder Builder()
    {
        if (IsLeNet)
        {
            var features = NeuralNetwork.Create(channels: 1, height: 28, width: 28)
                .Conv2D(6, kernel: 5, padding: 2, activation: HiddenActivation, initializer: WeightInitializer)
                .MaxPool2D(2)
                .Conv2D(16, kernel: 5, activation: HiddenActivation, initializer: WeightInitializer)
                .MaxPool2D(2)
                .Flatten()
                .Dense(120, HiddenActivation, WeightInitializer);
            features = Dropout > 0 ? features.Dropout(Dropout) : features;
            features = features.Dense(84, HiddenActivation, WeightInitializer);
            return (Dropout > 0 ? features.Dropout(Dropout) : features).Dense(10, OutputActivation, WeightInitializer);
        }

        var dense = Hidden.Aggregate(NeuralNetwork.Create(784), (b, units) =>
        {
            var hidden = b.Dense(units, HiddenActivation, WeightInitializer);
            return Dropout > 0 ? hidden.Dropout(Dropout) : hidden;
        });
        return dense.Dense(10, OutputActivation, WeightInitializer);
    }

    /// <summary>", dropout 0.2" when hidden units are dropped in training, else nothing.</summary>
    public string DropoutNote => Dropout > 0 ? FormattableString.Invariant($", dropout {Dropout}") : string.Empty;

    /// <summary>", shifted by 1 pixel" when the training images are joined by shifted copies, else nothing.</summary>
    public string ShiftNote => Shift > 0 ? FormattableString.Invariant($", shifted by {Shift} pixel{(Shift == 1 ? "" : "s")}") : string.Empty;

    /// <summary>The training digits, each followed by its copies shifted by <see cref="Shift"/> pixels when asked.</summary>
    public Dataset<T> TrainingData<T>(Dataset<T> digits)
        where T : System.Numerics.IFloatingPointIeee754<T> =>
        Shift > 0 ? digits.WithShiftedImages(Shift) : digits;

    /// <summary>σ for the hidden layers.</summary>
    public Activation HiddenActivation => Activation switch
    {
        "tanh" => FunctionalBackprop.Activation.Tanh,
        "relu" => FunctionalBackprop.Activation.ReLU,
        "leaky-relu" => FunctionalBackprop.Activation.LeakyReLU(0.01),
        _ => FunctionalBackprop.Activation.Sigmoid,
    };

    /// <summary>Softmax for cross-entropy (class probabilities), sigmoid otherwise (Nielsen's chapter 1).</summary>
    public Activation OutputActivation => Loss == "cross-entropy" ? FunctionalBackprop.Activation.Softmax : FunctionalBackprop.Activation.Sigmoid;

    public Loss LossFunction => Loss switch
    {
        "cross-entropy" => FunctionalBackprop.Loss.CrossEntropy,
        "binary-cross-entropy" => FunctionalBackprop.Loss.BinaryCrossEntropy,
        _ => FunctionalBackprop.Loss.Quadratic,
    };

    public Initializer WeightInitializer => Initializer switch
    {
        "scaled-normal" => FunctionalBackprop.Initializer.ScaledNormal,
        "xavier" => FunctionalBackprop.Initializer.XavierNormal,
        "he" => FunctionalBackprop.Initializer.HeNormal,
        "small-uniform" => FunctionalBackprop.Initializer.SmallUniform,
        _ => FunctionalBackprop.Initializer.StandardNormal,
    };

    /// <summary>The learning-rate schedule; decays are per epoch, converted to optimizer steps.</summary>
    public Schedule RateSchedule(int stepsPerEpoch) => Schedule switch
    {
        "inverse-time" => FunctionalBackprop.Schedule.InverseTime(LearningRate),
        "step" => FunctionalBackprop.Schedule.StepDecay(LearningRate, Decay, 10 * stepsPerEpoch),
        "exponential" => FunctionalBackprop.Schedule.Exponential(LearningRate, Math.Pow(Decay, 1.0 / stepsPerEpoch)),
        "cosine" => FunctionalBackprop.Schedule.Cosine(LearningRate, LearningRate / 100, Epochs * stepsPerEpoch),
        _ => FunctionalBackprop.Schedule.Constant(LearningRate),
    };

    public Optimizer MakeOptimizer(Schedule rate) => Optimizer switch
    {
        "momentum" => FunctionalBackprop.Optimizer.Momentum(rate, Momentum),
        "heavy-ball" => FunctionalBackprop.Optimizer.HeavyBall(rate, Momentum),
        "nesterov" => FunctionalBackprop.Optimizer.Nesterov(rate, Momentum),
        "adagrad" => FunctionalBackprop.Optimizer.AdaGrad(rate),
        "rmsprop" => FunctionalBackprop.Optimizer.RmsProp(rate),
        "adam" => FunctionalBackprop.Optimizer.Adam(rate),
        "adamw" => FunctionalBackprop.Optimizer.AdamW(rate),
        _ => FunctionalBackprop.Optimizer.Sgd(rate),
    };

    /// <summary>The data folder as given, or found by walking up from here and from the program's folder.</summary>
    public static string FindData(string folder)
    {
        if (Path.IsPathRooted(folder) || Directory.Exists(folder))
        {
            return folder;
        }

        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, folder);
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException($"The data folder '{folder}' was not found here or above; give it with --data.");
    }

    /// <summary>Hidden layer widths from "30" or "100,50".</summary>
    public static int[] ParseHidden(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => int.TryParse(part, out var units) && units > 0
                ? units
                : throw new FormatException($"--hidden takes positive layer widths separated by commas, like 30 or 100,50; '{part}' is not one."))
            .ToArray();
}
