using System;
using System.Collections.Generic;
using System.Numerics;

namespace FunctionalBackprop;

/// <summary>Why training ended.</summary>
public enum StopReason
{
    /// <summary>Every epoch ran.</summary>
    Completed,

    /// <summary>The weights moved by at most <see cref="FitOptions{T}.WeightChangeTolerance"/> over an epoch.</summary>
    WeightsConverged,

    /// <summary>The validation loss stopped improving; the result is the best epoch's network.</summary>
    NoImprovement,

    /// <summary>The cancellation token was signalled; the result is the network after the last batch.</summary>
    Cancelled,
}

/// <summary>Where training stands after an epoch.</summary>
/// <param name="Epoch">The epoch just completed, from 1.</param>
/// <param name="Epochs">The last epoch that will run (unless training stops early).</param>
/// <param name="TrainingLoss">The mean of this epoch's batch losses.</param>
/// <param name="ValidationLoss">The mean loss over the validation data, if given.</param>
/// <param name="ValidationAccuracy">The fraction of the validation data classified correctly, for classifiers.</param>
/// <param name="LearningRate">The learning rate of the epoch's last step, where the optimizer has one.</param>
/// <param name="Elapsed">Time since training began.</param>
public sealed record EpochReport(int Epoch, int Epochs, double TrainingLoss, double? ValidationLoss, double? ValidationAccuracy, double? LearningRate, TimeSpan Elapsed);

/// <summary>A network's loss on a data set, and its accuracy if it is a classifier (sigmoid or softmax outputs).</summary>
/// <param name="Loss">The mean loss over the examples.</param>
/// <param name="Accuracy">The fraction classified correctly (arg-max, or ≥ ½ for one output); null for regressions.</param>
public sealed record EvaluationResult(double Loss, double? Accuracy);

/// <summary>A layer's description.</summary>
/// <param name="InputWidth">Its number of inputs.</param>
/// <param name="Units">Its number of units (outputs).</param>
/// <param name="Activation">Its activation function.</param>
public sealed record LayerInfo(int InputWidth, int Units, Activation Activation);

/// <summary>The gradient of the mean cost with respect to one layer's parameters.</summary>
/// <typeparam name="T">double or float.</typeparam>
/// <param name="Weights">∂C/∂w as [unit, input], the layout of the weights (Nielsen's wⱼₖ).</param>
/// <param name="Biases">∂C/∂b, one per unit.</param>
public sealed record LayerGradients<T>(T[,] Weights, T[] Biases)
    where T : IFloatingPointIeee754<T>;

/// <summary>The cost of a batch and its gradient with respect to every parameter.</summary>
/// <typeparam name="T">double or float.</typeparam>
/// <param name="Loss">The batch's mean cost.</param>
/// <param name="Layers">One gradient per layer, input side first.</param>
public sealed record NetworkGradients<T>(double Loss, IReadOnlyList<LayerGradients<T>> Layers)
    where T : IFloatingPointIeee754<T>;

/// <summary>A parameter's position: layer (from 0), row (unit) and, for a weight, column (input).</summary>
/// <param name="LayerIndex">The layer, from 0 (messages call it layer 1).</param>
/// <param name="Row">The unit.</param>
/// <param name="Column">The input, for a weight; null for a bias.</param>
public sealed record ParameterLocation(int LayerIndex, int Row, int? Column);

/// <summary>How backprop's gradient compares with finite differences.</summary>
/// <param name="MaxRelativeError">The largest relative disagreement beyond the estimates' own uncertainty.</param>
/// <param name="Worst">Where it is.</param>
/// <param name="Analytic">Backprop's value there.</param>
/// <param name="Numeric">The finite-difference estimate there.</param>
/// <param name="MaxRelativeUncertainty">How fine a disagreement the estimates could see at all.</param>
/// <param name="Checked">Parameters compared.</param>
/// <param name="Resolved">Parameters whose estimate could show a relative error of 10⁻⁶.</param>
/// <param name="AtKinks">Parameters skipped because every step crossed a ReLU's kink.</param>
public sealed record GradientCheckResult(double MaxRelativeError, ParameterLocation? Worst, double Analytic, double Numeric, double MaxRelativeUncertainty, int Checked, int Resolved, int AtKinks);

/// <summary>What <see cref="NeuralNetwork{T}.Fit(Dataset{T}, FitOptions{T}, IProgress{EpochReport}?, System.Threading.CancellationToken)"/> returns.</summary>
/// <typeparam name="T">double or float.</typeparam>
/// <param name="Network">The trained network (under early stopping, the best epoch's).</param>
/// <param name="History">One report per completed epoch.</param>
/// <param name="Stopped">Why training ended.</param>
/// <param name="Checkpoint">Where to resume from (save it with the optimizer's state).</param>
public sealed record FitResult<T>(NeuralNetwork<T> Network, IReadOnlyList<EpochReport> History, StopReason Stopped, TrainingCheckpoint<T> Checkpoint)
    where T : IFloatingPointIeee754<T>;

/// <summary>Thrown when the loss or a parameter stops being finite, most often from too large a learning rate.</summary>
public class TrainingDivergedException : Exception
{
    /// <summary>A divergence at the given epoch and step.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="epoch">The epoch, from 1.</param>
    /// <param name="step">The optimizer step, from 1.</param>
    /// <param name="loss">The batch loss at that step.</param>
    /// <param name="inner">The core's exception.</param>
    public TrainingDivergedException(string message, int epoch, long step, double loss, Exception? inner = null)
        : base(message, inner)
    {
        Epoch = epoch;
        Step = step;
        Loss = loss;
    }

    /// <summary>The epoch in which training diverged, from 1.</summary>
    public int Epoch { get; }

    /// <summary>The optimizer step that produced a value that is not finite, from 1.</summary>
    public long Step { get; }

    /// <summary>The batch loss at that step (NaN or ∞ when the loss itself diverged).</summary>
    public double Loss { get; }
}

/// <summary>A divergence, with the last network whose parameters and loss were finite.</summary>
/// <typeparam name="T">double or float.</typeparam>
public sealed class TrainingDivergedException<T> : TrainingDivergedException
    where T : IFloatingPointIeee754<T>
{
    /// <summary>A divergence at the given epoch and step.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="lastFinite">The network before the step that diverged.</param>
    /// <param name="epoch">The epoch, from 1.</param>
    /// <param name="step">The optimizer step, from 1.</param>
    /// <param name="loss">The batch loss at that step.</param>
    /// <param name="inner">The core's exception.</param>
    public TrainingDivergedException(string message, NeuralNetwork<T> lastFinite, int epoch, long step, double loss, Exception? inner = null)
        : base(message, epoch, step, loss, inner)
    {
        LastFiniteNetwork = lastFinite;
    }

    /// <summary>The network before the step that diverged; nothing learned before is lost.</summary>
    public NeuralNetwork<T> LastFiniteNetwork { get; }
}
