using System;
using System.Numerics;
using Microsoft.FSharp.Core;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>
/// How <see cref="NeuralNetwork{T}.Fit(Dataset{T}, FitOptions{T}?, IProgress{EpochReport}?, System.Threading.CancellationToken)"/>
/// trains. Every property has a default that works out of the box: 30 epochs of mini-batches of
/// 10, the loss that suits the output layer (<see cref="NeuralNetwork{T}.DefaultLoss"/>), Adam
/// with α = 0.001, and for regression targets scaled to mean 0 and deviation 1
/// (<see cref="TargetScaling"/>). Every property is checked when it is set. The textbook's settings are one line:
/// <code>
/// var options = new FitOptions { Epochs = 30, BatchSize = 10, Loss = Loss.Quadratic, Optimizer = Optimizer.Sgd(3.0) };
/// </code>
/// </summary>
/// <typeparam name="T">The network's real type, double or float.</typeparam>
public record FitOptions<T>
    where T : IFloatingPointIeee754<T>
{
    private readonly int epochs = 30;
    private readonly int batchSize = 10;
    private readonly int shards;
    private readonly Loss? loss;
    private readonly Optimizer optimizer = Optimizer.Adam();
    private readonly Schedule? schedule;
    private readonly int? earlyStoppingPatience;
    private readonly double? weightChangeTolerance;
    private readonly double l2;
    private readonly TargetScaling targetScaling;

    /// <summary>The last epoch to run (at least 1; 30 by default).</summary>
    public int Epochs
    {
        get => epochs;
        init => epochs = Checked(value, Core.TrainingOptions.epochsProblem(value), nameof(Epochs));
    }

    /// <summary>
    /// Examples per update (at least 1; 10 by default): 1 is stochastic gradient descent, the
    /// training set's size or more is batch gradient descent, anything between mini-batch descent.
    /// </summary>
    public int BatchSize
    {
        get => batchSize;
        init => batchSize = Checked(value, Core.TrainingOptions.batchSizeProblem(value), nameof(BatchSize));
    }

    /// <summary>
    /// How many shards each mini-batch is split into, computed at once on as many threads (never
    /// more than the batch has examples). 0, the default, chooses: one shard per processor when
    /// products run on the managed kernel, and 1 when a native BLAS runs them (it already puts
    /// every core on each large product, and at small sizes each shard would repeat its packing of
    /// the weights: measured, two shards were no faster). The
    /// gradient is the sum of the shards' shares added in shard order, so training is
    /// bit-identical from run to run for a given count; counts differ only by the rounding of that
    /// sum. Set it (to 1, say) to get the same bits on every machine whatever its cores and BLAS.
    /// </summary>
    public int Shards
    {
        get => shards;
        init => shards = Checked(value, Core.Shards.problem(value), nameof(Shards));
    }

    /// <summary>
    /// The cost to minimise. When null (the default) it follows the output layer: cross-entropy
    /// for softmax, binary cross-entropy for sigmoid, quadratic for every other activation
    /// (<see cref="NeuralNetwork{T}.DefaultLoss"/>). Any loss the output layer supports may be
    /// chosen instead, quadratic always.
    /// </summary>
    public Loss? Loss
    {
        get => loss;
        init => loss = value is null || Enum.IsDefined(value.Value) ? value : throw new ArgumentOutOfRangeException(nameof(Loss), value, $"{value} is not a loss.");
    }

    /// <summary>How the parameters move: <c>Optimizer.Adam()</c> (α = 0.001, β₁ = 0.9, β₂ = 0.999) by default.</summary>
    public Optimizer Optimizer
    {
        get => optimizer;
        init => optimizer = value ?? throw new ArgumentNullException(nameof(Optimizer));
    }

    /// <summary>
    /// A learning-rate schedule that replaces the optimizer's own rate, if set. A schedule counted in
    /// epochs (such as <c>Schedule.Cosine(0.05, 0.0005)</c> over the whole run) is converted to
    /// steps when training starts.
    /// </summary>
    public Schedule? Schedule
    {
        get => schedule;
        init
        {
            value?.Validate(nameof(Schedule));
            schedule = value;
        }
    }

    /// <summary>Seeds the shuffling of each epoch: the same seed and data give the same network, bit for bit.</summary>
    public long Seed { get; init; }

    /// <summary>Examples measured after each epoch (loss, and accuracy for classifiers), if any.</summary>
    public Dataset<T>? ValidationData { get; init; }

    /// <summary>
    /// Stop when the validation loss has not improved for this many epochs and return the best
    /// epoch's network (at least 1; needs <see cref="ValidationData"/>). Off when null.
    /// </summary>
    public int? EarlyStoppingPatience
    {
        get => earlyStoppingPatience;
        init => earlyStoppingPatience = value is { } patience ? Checked(patience, Core.TrainingOptions.patienceProblem(patience), nameof(EarlyStoppingPatience)) : null;
    }

    /// <summary>Stop once an epoch moves the weights by at most this (Euclidean) distance. Off when null.</summary>
    public double? WeightChangeTolerance
    {
        get => weightChangeTolerance;
        init => weightChangeTolerance = value is { } epsilon ? Checked(epsilon, Core.TrainingOptions.weightChangeProblem(epsilon), nameof(WeightChangeTolerance)) : null;
    }

    /// <summary>
    /// L2 regularisation λ (network2.py's form): each step also decays the weights by ηλ/n, n the
    /// training set's size. 0 (the default) turns it off.
    /// </summary>
    public double L2
    {
        get => l2;
        init => l2 = Checked(value, Core.Transform.decayProblem(value), nameof(L2));
    }

    /// <summary>
    /// Whether a regression network's targets are scaled: <see cref="TargetScaling.Standard"/> (the
    /// default) fits a standard scaler to the training targets when the network has no
    /// <see cref="NeuralNetwork{T}.TargetScaler"/> and its output layer gives any real value; the
    /// trained network keeps it. <see cref="TargetScaling.None"/> trains on the targets as given.
    /// </summary>
    public TargetScaling TargetScaling
    {
        get => targetScaling;
        init => targetScaling = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(TargetScaling), value, $"{value} is not a way of scaling targets.");
    }

    /// <summary>
    /// Checkpoints saved while training runs, atomically, every so many steps or epochs (see
    /// <see cref="CheckpointSchedule"/>); off when null (the default). A run killed at any moment
    /// then resumes from the last one exactly as if it had not stopped. The file is written on the
    /// training thread; if a write fails, training ends with its exception and the previous
    /// checkpoint stays whole. The run's last state is in <see cref="FitResult{T}.Checkpoint"/>
    /// either way.
    /// </summary>
    public CheckpointSchedule? Checkpoints { get; init; }

    /// <summary>The value of the option <paramref name="name"/>, unless the core's rule for it finds a problem.</summary>
    private static TValue Checked<TValue>(TValue value, FSharpOption<string>? problem, string name) =>
        problem is { } why ? throw new ArgumentOutOfRangeException(name, value, why.Value) : value;
}

/// <summary>Options for float64 networks: <c>new FitOptions { Epochs = 30 }</c>.</summary>
public sealed record FitOptions : FitOptions<double>;
