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

/// <summary>Where training stands after a mini-batch (reported only to a progress object that also implements <see cref="IProgress{BatchReport}"/>).</summary>
/// <param name="Epoch">The epoch under way, from 1.</param>
/// <param name="Epochs">The last epoch that will run (unless training stops early).</param>
/// <param name="Batch">The mini-batch just stepped on, from 1.</param>
/// <param name="BatchesPerEpoch">Mini-batches per epoch.</param>
/// <param name="Step">Optimizer steps taken since training began (a resumed run continues the count).</param>
/// <param name="BatchLoss">The batch's mean loss, before the step.</param>
/// <param name="RunningLoss">The mean of this epoch's batch losses so far.</param>
/// <param name="LearningRate">The learning rate of the step, where the optimizer has one.</param>
/// <param name="Elapsed">Time since training began.</param>
public sealed record BatchReport(int Epoch, int Epochs, int Batch, int BatchesPerEpoch, long Step, double BatchLoss, double RunningLoss, double? LearningRate, TimeSpan Elapsed);

/// <summary>
/// A network's mean loss on a data set. The result of
/// <see cref="NeuralNetwork{T}.Evaluate(Dataset{T}, FunctionalBackprop.Loss?)"/> is a
/// <see cref="ClassificationResult"/> for a classifier (sigmoid or softmax outputs), with accuracy
/// and confusion matrix, and a <see cref="RegressionResult"/> for any other network, with R², RMSE
/// and MAE.
/// </summary>
/// <param name="LossFunction">The loss measured: the one asked for, or the network's <see cref="NeuralNetwork{T}.DefaultLoss"/>.</param>
/// <param name="Loss">
/// The mean loss over the n examples, as training minimises it: for <see cref="FunctionalBackprop.Loss.Quadratic"/>
/// (1/n) Σₓ ½‖a − y‖², half the mean squared error summed over the outputs (√(2·Loss) is the
/// RMSE of one output), on the targets as the network learns them (scaled, when it has a
/// <see cref="NeuralNetwork{T}.TargetScaler"/>: <see cref="RegressionResult"/> gives the errors in
/// the targets' units); for <see cref="FunctionalBackprop.Loss.CrossEntropy"/> (1/n) Σₓ −Σⱼ yⱼ ln aⱼ,
/// the log-loss in nats; for <see cref="FunctionalBackprop.Loss.BinaryCrossEntropy"/>
/// (1/n) Σₓ −Σⱼ [yⱼ ln aⱼ + (1 − yⱼ) ln(1 − aⱼ)], summed over the outputs.
/// </param>
/// <param name="Count">The number of examples.</param>
public record EvaluationResult(FunctionalBackprop.Loss LossFunction, double Loss, int Count);

/// <summary>How far one output's predictions ŷ are from its targets y over n examples, in the targets' units.</summary>
/// <param name="RSquared">R² = 1 − Σ(ŷ − y)²/Σ(y − ȳ)²: 1 for perfect predictions, 0 for always predicting the targets' mean, below 0 for worse (1 or 0 when every target is the same, as scikit-learn gives).</param>
/// <param name="RootMeanSquaredError">RMSE = √((1/n) Σ(ŷ − y)²).</param>
/// <param name="MeanAbsoluteError">MAE = (1/n) Σ|ŷ − y|.</param>
public sealed record OutputErrors(double RSquared, double RootMeanSquaredError, double MeanAbsoluteError);

/// <summary>
/// A regression network's loss and errors on a data set: R², RMSE and MAE of its predictions
/// (Predict's outputs, in the targets' own units) per output and averaged over the outputs, as
/// scikit-learn's r2_score, root_mean_squared_error and mean_absolute_error give them.
/// </summary>
/// <param name="LossFunction">The loss measured.</param>
/// <param name="Loss">The mean loss over the examples (see <see cref="EvaluationResult"/>: on scaled targets when the network has a target scaler).</param>
/// <param name="Count">The number of examples.</param>
/// <param name="RSquared">The average of the outputs' R² (scikit-learn's multioutput='uniform_average').</param>
/// <param name="RootMeanSquaredError">The average of the outputs' RMSE.</param>
/// <param name="MeanAbsoluteError">The average of the outputs' MAE.</param>
/// <param name="Outputs">Each output's errors, in output order.</param>
public sealed record RegressionResult(FunctionalBackprop.Loss LossFunction, double Loss, int Count, double RSquared, double RootMeanSquaredError, double MeanAbsoluteError, IReadOnlyList<OutputErrors> Outputs)
    : EvaluationResult(LossFunction, Loss, Count);

/// <summary>A classifier's loss, accuracy and confusion matrix on a data set.</summary>
/// <param name="LossFunction">The loss measured.</param>
/// <param name="Loss">The mean loss over the examples.</param>
/// <param name="Count">The number of examples.</param>
/// <param name="Accuracy">The fraction classified correctly: the arg-max of the outputs (or, for one output, output ≥ ½) is the target's class.</param>
/// <param name="ConfusionMatrix">How often each class was taken for each: [actual, predicted], one row and column per class (2 for one output). The result's own copy.</param>
public sealed record ClassificationResult(FunctionalBackprop.Loss LossFunction, double Loss, int Count, double Accuracy, int[,] ConfusionMatrix)
    : EvaluationResult(LossFunction, Loss, Count);

/// <summary>A layer's description.</summary>
/// <param name="Kind">What kind of layer it is.</param>
/// <param name="InputWidth">Its number of inputs.</param>
/// <param name="Units">Its number of outputs (a dense layer's units).</param>
/// <param name="Activation">The activation it applies last (the identity for a dropout layer).</param>
/// <param name="Description">"dense 784→30 sigmoid", "activation relu", "dropout(p = 0.5)", "conv 1→6 5×5 stride 1×1 padding 2×2 relu".</param>
public sealed record LayerInfo(LayerKind Kind, int InputWidth, int Units, Activation Activation, string Description)
{
    /// <summary>The shape of its input when that is an image; null for a vector.</summary>
    public ImageShape? InputImage { get; init; }

    /// <summary>The shape of its output when that is an image (a convolution's or a pooling's); null for a vector.</summary>
    public ImageShape? OutputImage { get; init; }

    /// <summary>The description: "dense 784→30 sigmoid", "dropout(p = 0.5)", ….</summary>
    public override string ToString() => Description;
}

/// <summary>
/// The gradient of the mean cost with respect to one layer's parameters. A layer without weights
/// and biases (an activation or dropout layer) has empty arrays.
/// </summary>
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

/// <summary>A parameter's position: layer (from 0), which of its parameters, row (unit) and, for a matrix such as the weights, column (input).</summary>
/// <param name="LayerIndex">The layer, from 0 (messages call it layer 1).</param>
/// <param name="Parameter">The parameter's name, as ONNX and PyTorch give it: "weight" or "bias".</param>
/// <param name="Row">The unit.</param>
/// <param name="Column">The input, for a matrix (the weights); null for a vector (the biases).</param>
public sealed record ParameterLocation(int LayerIndex, string Parameter, int Row, int? Column);

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

/// <summary>What <see cref="NeuralNetwork{T}.Fit(Dataset{T}, FitOptions{T}?, IProgress{EpochReport}?, System.Threading.CancellationToken)"/> returns.</summary>
/// <typeparam name="T">double or float.</typeparam>
/// <param name="Network">The trained network (under early stopping, the best epoch's).</param>
/// <param name="History">One report per completed epoch.</param>
/// <param name="Stopped">Why training ended.</param>
/// <param name="Checkpoint">Where to resume from (save it with the optimizer's state).</param>
/// <param name="LossFunction">The loss that was minimised: the options' or, when they name none, the network's <see cref="NeuralNetwork{T}.DefaultLoss"/>.</param>
public sealed record FitResult<T>(NeuralNetwork<T> Network, IReadOnlyList<EpochReport> History, StopReason Stopped, TrainingCheckpoint<T> Checkpoint, Loss LossFunction)
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
