using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

// Measuring a network on examples: loss, accuracy, confusion matrix, gradients.
public sealed partial class NeuralNetwork<T>
{
    /// <summary>
    /// The mean loss over the examples; for a classifier (<see cref="IsClassifier"/>) the result is
    /// a <see cref="ClassificationResult"/>, with accuracy and confusion matrix, and for any other
    /// network a <see cref="RegressionResult"/>, with R², RMSE and MAE in the targets' units.
    /// </summary>
    /// <param name="data">The examples (raw inputs, when the network has a scaler).</param>
    /// <param name="loss">The loss to measure; <see cref="DefaultLoss"/> when null.</param>
    /// <exception cref="ArgumentException">The examples do not fit the network, or the loss does not suit its output layer or the targets.</exception>
    /// <exception cref="OverflowException">The loss is not finite: a weighted input or the loss exceeded the range of <typeparamref name="T"/>.</exception>
    public EvaluationResult Evaluate(Dataset<T> data, Loss? loss = null) => Measure(Examples<T>.Of(data, nameof(data)), loss);

    /// <summary>The mean loss over inputs and the targets at the same indices (and accuracy, for a classifier).</summary>
    /// <param name="inputs">One array per example.</param>
    /// <param name="targets">One array per example.</param>
    /// <param name="loss">The loss to measure; <see cref="DefaultLoss"/> when null.</param>
    public EvaluationResult Evaluate(T[][] inputs, T[][] targets, Loss? loss = null) => Measure(Examples<T>.Of(inputs, targets), loss);

    /// <summary>The mean loss (and accuracy, for a classifier) for integer class labels, one-hot encoded (0/1 for one output).</summary>
    /// <param name="inputs">One array per example.</param>
    /// <param name="labels">One class per example.</param>
    /// <param name="loss">The loss to measure; <see cref="DefaultLoss"/> when null.</param>
    public EvaluationResult Evaluate(T[][] inputs, IReadOnlyList<int> labels, Loss? loss = null) =>
        Measure(Examples<T>.Labelled(inputs, labels, OutputWidth), loss);

    /// <summary>A classifier's loss, accuracy and confusion matrix on the examples.</summary>
    /// <param name="data">The examples; targets one-hot (or 0/1 for one output) or class probabilities.</param>
    /// <param name="loss">The loss to measure; <see cref="DefaultLoss"/> when null.</param>
    /// <exception cref="InvalidOperationException">The network is not a classifier: its outputs are not class scores.</exception>
    public ClassificationResult EvaluateClassifier(Dataset<T> data, Loss? loss = null) =>
        (ClassificationResult)Measure(Examples<T>.Of(data, nameof(data)), loss, Measurement.Classifier);

    /// <summary>A classifier's loss, accuracy and confusion matrix for integer class labels.</summary>
    /// <param name="inputs">One array per example.</param>
    /// <param name="labels">One class per example.</param>
    /// <param name="loss">The loss to measure; <see cref="DefaultLoss"/> when null.</param>
    /// <exception cref="InvalidOperationException">The network is not a classifier.</exception>
    public ClassificationResult EvaluateClassifier(T[][] inputs, IReadOnlyList<int> labels, Loss? loss = null) =>
        (ClassificationResult)Measure(Examples<T>.Labelled(inputs, labels, OutputWidth), loss, Measurement.Classifier);

    /// <summary>
    /// A regression network's loss and its R², RMSE and MAE (per output and averaged over the
    /// outputs) on the examples, in the targets' own units.
    /// </summary>
    /// <param name="data">The examples (raw inputs and targets, when the network has scalers).</param>
    /// <param name="loss">The loss to measure; <see cref="DefaultLoss"/> when null.</param>
    /// <exception cref="InvalidOperationException">The network is a classifier: its outputs are class scores (<see cref="EvaluateClassifier(Dataset{T}, Loss?)"/> measures it).</exception>
    public RegressionResult EvaluateRegression(Dataset<T> data, Loss? loss = null) =>
        (RegressionResult)Measure(Examples<T>.Of(data, nameof(data)), loss, Measurement.Regression);

    /// <summary>A regression network's loss, R², RMSE and MAE for inputs and the targets at the same indices.</summary>
    /// <param name="inputs">One array per example.</param>
    /// <param name="targets">One array per example.</param>
    /// <param name="loss">The loss to measure; <see cref="DefaultLoss"/> when null.</param>
    /// <exception cref="InvalidOperationException">The network is a classifier.</exception>
    public RegressionResult EvaluateRegression(T[][] inputs, T[][] targets, Loss? loss = null) =>
        (RegressionResult)Measure(Examples<T>.Of(inputs, targets), loss, Measurement.Regression);

    /// <summary>The batch's mean cost and its gradient with respect to every weight and bias (by backprop; raw inputs go through the scaler first).</summary>
    /// <param name="inputs">One array per example.</param>
    /// <param name="targets">One array per example.</param>
    /// <param name="loss">The cost; <see cref="DefaultLoss"/> when null.</param>
    /// <param name="training">Run the forward pass as training does (dropout's masks drawn from this key); inference, as Predict, when null.</param>
    /// <exception cref="OverflowException">The loss or a gradient entry is not finite: it exceeded the range of <typeparamref name="T"/>.</exception>
    public NetworkGradients<T> ComputeGradients(T[][] inputs, T[][] targets, Loss? loss = null, TrainingMode? training = null)
    {
        var (x, y, core) = Checked(Examples<T>.Of(inputs, targets), loss);
        var result = Core.Backprop.lossAndGradient(TrainingMode.ToCore(training), core, CoreNetwork, x, y);
        if (!T.IsFinite(result.Item1))
        {
            throw new OverflowException($"The loss is {result.Item1}: a weighted input or the loss exceeded the range of {typeof(T).Name}. Scale the inputs (and targets) down.");
        }

        var layers = result.Item2.Layers.Select((g, l) => LayerGradients(l, g)).ToArray();
        return new NetworkGradients<T>(double.CreateTruncating(result.Item1), layers);
    }

    /// <summary>Layer <paramref name="l"/>'s gradient as the facade gives it: its weights' and biases' (empty for a layer without them), each entry checked finite.</summary>
    private LayerGradients<T> LayerGradients(int l, Core.LayerGradient<T> g)
    {
        var tensors = g.Tensors.ToArray();
        var weights = Core.Parameters.tensorIndex(CoreNetwork, l, "weight") is { } w ? tensors[w.Value] : null;
        var biases = Core.Parameters.tensorIndex(CoreNetwork, l, "bias") is { } b ? tensors[b.Value] : null;
        var bad = (weights is null ? null : Entries.FirstNonFinite(weights, (i, k) => $"Layers[{l}].Weights[{i}, {k}]"))
            ?? (biases is null ? null : Entries.FirstNonFinite(biases, (i, _) => $"Layers[{l}].Biases[{i}]"));
        return bad is null
            ? new LayerGradients<T>(weights is null ? new T[0, 0] : Core.Matrix.toArray2D(weights), biases is null ? Array.Empty<T>() : biases.ToArray())
            : throw new OverflowException($"The gradient's {bad}: it exceeded the range of {typeof(T).Name}. Scale the inputs down.");
    }

    /// <summary>
    /// The batch's mean cost, with its gradient with respect to every weight and bias written into
    /// <paramref name="buffer"/> (read it there): the bits of
    /// <see cref="ComputeGradients(T[][], T[][], Loss?, TrainingMode?)"/>, with no allocation after the buffer's
    /// first call. Raw inputs go through the scaler first.
    /// </summary>
    /// <param name="inputs"><see cref="GradientBuffer{T}.BatchSize"/> arrays of <see cref="InputWidth"/> finite values.</param>
    /// <param name="targets">One array of <see cref="OutputWidth"/> values per example.</param>
    /// <param name="buffer">Made for this network's shapes and the batch size.</param>
    /// <param name="loss">The cost; <see cref="DefaultLoss"/> when null.</param>
    /// <param name="training">Run the forward pass as training does (dropout's masks drawn from this key); inference, as Predict, when null.</param>
    /// <exception cref="OverflowException">The loss or a gradient entry is not finite: it exceeded the range of <typeparamref name="T"/>.</exception>
    public double ComputeGradients(T[][] inputs, T[][] targets, GradientBuffer<T> buffer, Loss? loss = null, TrainingMode? training = null)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var x = buffer.Inputs;
        var y = buffer.Targets;
        BatchInto(inputs, nameof(inputs), x, buffer.BatchSize);
        BatchInto(targets, nameof(targets), y, buffer.BatchSize);
        if (Scaler is not null)
        {
            Core.ScalerModule.applyInto(Scaler.CoreScaler, x, x.values);
        }

        if (TargetScaler is not null)
        {
            Core.ScalerModule.applyInto(TargetScaler.CoreScaler, y, y.values);
        }

        if (!buffer.CoreBuffer.Fits(CoreNetwork))
        {
            throw new ArgumentException($"The buffer was made for a network laid out as {buffer.CoreBuffer.Layout}, not {CoreNetwork}.", nameof(buffer));
        }

        var core = (loss ?? DefaultLoss).ToCore(nameof(loss));
        CheckLoss(core, y, static () => Naming.Jagged(nameof(targets)), nameof(loss));
        var cost = buffer.CoreBuffer.LossAndGradient(TrainingMode.ToCore(training), core, CoreNetwork, x, y);

        if (!T.IsFinite(cost))
        {
            throw new OverflowException($"The loss is {cost}: a weighted input or the loss exceeded the range of {typeof(T).Name}. Scale the inputs (and targets) down.");
        }

        var gradient = buffer.CoreBuffer.Gradient.Layers;
        for (var layer = 0; layer < gradient.Length; layer++)
        {
            var tensors = gradient[layer].Tensors;
            for (var k = 0; k < tensors.Length; k++)
            {
                if (Core.Matrix.tryFindNonFinite(tensors[k]) is not null)
                {
                    throw new OverflowException($"The gradient of layer {layer} is not finite: it exceeded the range of {typeof(T).Name}. Scale the inputs down.");
                }
            }
        }

        buffer.Loss = double.CreateTruncating(cost);
        return buffer.Loss;
    }

    /// <summary>Copies a batch given as one array per example into a buffer's columns, checking it in the caller's terms.</summary>
    private static void BatchInto(T[][] rows, string name, Core.Matrix<T> target, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(rows, name);
        if (rows.Length != batchSize)
        {
            throw new ArgumentException($"The buffer was made for batches of {batchSize} examples, but {name} holds {rows.Length}.", name);
        }

        var width = target.Rows;
        for (var j = 0; j < rows.Length; j++)
        {
            var row = rows[j] ?? throw new ArgumentException($"{name}[{j}] is null.", name);
            if (row.Length != width)
            {
                throw new ArgumentException($"{name}[{j}] has {row.Length} values, but the network takes {width}.", name);
            }

            for (var i = 0; i < width; i++)
            {
                if (!T.IsFinite(row[i]))
                {
                    throw new ArgumentException($"{name}[{j}][{i}] is {row[i]}: values must be finite.", name);
                }
            }

            row.AsSpan().CopyTo(target.values.AsSpan(j * width, width));
        }
    }

    /// <summary>Compares backprop's gradient with finite differences over every parameter.</summary>
    /// <param name="inputs">One array per example (keep the batch small: this costs many forward passes per parameter).</param>
    /// <param name="targets">One array per example.</param>
    /// <param name="loss">The cost; <see cref="DefaultLoss"/> when null.</param>
    /// <param name="training">Run the forward passes as training does, with dropout's masks fixed by this key; inference, as Predict, when null.</param>
    public GradientCheckResult CheckGradients(T[][] inputs, T[][] targets, Loss? loss = null, TrainingMode? training = null)
    {
        var (x, y, core) = Checked(Examples<T>.Of(inputs, targets), loss);
        var r = Core.GradientCheck.run(TrainingMode.ToCore(training), core, CoreNetwork, x, y);
        ParameterLocation? worst = r.Worst?.Value is { } p ? Location(p) : null;
        return new GradientCheckResult(r.MaxRelativeError, worst, r.Analytic, r.Numeric, r.MaxRelativeUncertainty, r.Checked, r.Resolved, r.AtKinks);
    }

    /// <summary>Where a parameter is, in the facade's terms: layer from 0, the tensor's name, and a column only for a matrix.</summary>
    private ParameterLocation Location(Core.ParameterIndex p)
    {
        var l = p.Layer - 1;
        var spec = Core.LayerSpecModule.parameterSpecs(Core.Layer.spec(CoreNetwork.Layers[l]), CoreNetwork.Shapes[l])[p.Tensor];
        return new ParameterLocation(l, spec.Name, p.Row, spec.Columns == 1 ? null : p.Column);
    }

    private EvaluationResult Measure(Examples<T> examples, Loss? loss, Measurement asked = Measurement.Any)
    {
        if (asked == Measurement.Regression && IsClassifier)
        {
            throw new InvalidOperationException($"The output layer is {Layers[^1]}: its outputs are class scores, not numbers to compare with targets. EvaluateClassifier gives its loss, accuracy and confusion matrix; a regression network ends in .Dense(units) with no activation.");
        }

        if (asked == Measurement.Classifier && !IsClassifier)
        {
            var why = Core.ActivationModule.widthProblem(CoreNetwork.OutputActivation, OutputWidth)?.Value ?? "its outputs are not class scores.";
            throw new InvalidOperationException($"The output layer is {Layers[^1]}: {why} So there is no accuracy to measure: Evaluate gives the loss, and for a regression network R², RMSE and MAE. A classifier ends in .Dense(1, Activation.Sigmoid) for two classes or .Dense(k, Activation.Softmax) for k ≥ 2.");
        }

        var chosen = loss ?? DefaultLoss;
        examples = examples.ForOutputs(OutputWidth);
        var (x, y, core) = Checked(examples, chosen);
        var value = Core.Evaluation.loss(core, CoreNetwork, x, y);
        if (!double.IsFinite(value))
        {
            throw new OverflowException($"The loss is {value}: a weighted input or the loss exceeded the range of {typeof(T).Name}. Scale the inputs (and targets) down.");
        }

        if (!IsClassifier)
        {
            var raw = examples.Data.Targets;
            var errors = Core.RegressionMetricsModule.measure(CoreConvert.Option(TargetScaler?.CoreScaler), CoreNetwork, x, raw);
            var outputs = errors.RSquared.Zip(errors.RootMeanSquaredError, errors.MeanAbsoluteError).Select(e => new OutputErrors(e.First, e.Second, e.Third)).ToArray();
            return new RegressionResult(chosen, value, x.Cols, errors.AverageRSquared, errors.AverageRootMeanSquaredError, errors.AverageMeanAbsoluteError, outputs);
        }

        var counts = Core.Evaluation.confusionMatrix(CoreNetwork, x, y);
        return new ClassificationResult(chosen, value, x.Cols, Core.Evaluation.accuracyOf(counts), counts);
    }

    /// <summary>The examples checked against the network and the loss, their inputs ready for the first layer.</summary>
    private (Core.Matrix<T> X, Core.Matrix<T> Y, Core.Loss Loss) Checked(Examples<T> examples, Loss? loss)
    {
        var core = (loss ?? DefaultLoss).ToCore(nameof(loss));
        Check(examples, core, nameof(loss));
        return (Prepare(examples.Data.Inputs, examples.Inputs), Learned(examples.Data.Targets, examples.Targets), core);
    }

    /// <summary>
    /// Checks examples against the network and the loss, in the caller's terms: the widths, the
    /// loss against the output layer (an error names <paramref name="lossParameter"/>), and every
    /// target against the loss, by the core's own checks.
    /// </summary>
    private void Check(Examples<T> examples, Core.Loss loss, string lossParameter)
    {
        var data = examples.Data;
        CheckImages(data, examples.Inputs.Parameter);
        Entries.CheckWidth(data.Inputs, InputWidth, examples.Inputs, Takes);
        var classes = data.ClassCount is { } k ? $" (the data hold labels of {k} classes, which an output layer of {k} softmax units takes{(k == 2 ? ", or one sigmoid unit" : string.Empty)})" : string.Empty;
        Entries.CheckWidth(data.Targets, OutputWidth, examples.Targets, $"The network's output layer (layer {Layers.Count}) has {Core.Wording.count(OutputWidth, "unit")}{classes}");
        CheckLoss(loss, data.Targets, () => examples.Targets, lossParameter);
    }

    /// <summary>
    /// The core's rules for the loss, in the caller's terms: it must suit the output layer (an
    /// error names <paramref name="lossParameter"/>) and accept every target (an error names the
    /// target as <paramref name="naming"/>, made only then, says the caller indexes it).
    /// </summary>
    private void CheckLoss(Core.Loss loss, Core.Matrix<T> targets, Func<Naming> naming, string lossParameter)
    {
        if (Core.LossModule.pairingProblem(loss, CoreNetwork.OutputActivation) is { } why)
        {
            throw new ArgumentException(why.Value, lossParameter);
        }

        var k = Core.LossModule.firstInvalidTarget(loss, targets);
        if (k >= 0)
        {
            var v = targets.values[k];
            var names = naming();
            throw new ArgumentException($"{names.Value(k % targets.Rows, k / targets.Rows)} is {v}, which the loss does not accept: {Core.LossModule.name(loss)} needs targets {Core.LossModule.targetRange(loss)}.{ClassTargetsFix(loss)}", names.Parameter);
        }

        var j = Core.LossModule.firstUnnormalisedExample(loss, targets);
        if (j >= 0)
        {
            var names = naming();
            throw new ArgumentException($"{names.Example(j)} sums to {Core.LossModule.exampleSum(targets, j):R}, but {Core.LossModule.distributionRule}.{ClassTargetsFix(loss)}", names.Parameter);
        }
    }

    /// <summary>What to do about targets a cross-entropy refuses, in C# terms.</summary>
    private static string ClassTargetsFix(Core.Loss loss) =>
        loss.IsQuadratic
            ? string.Empty
            : " Classes are given as labels (Fit(inputs, labels), Dataset.FromLabels) or one-hot targets; a network that predicts numbers ends in .Dense(units) with no activation, and trains with the quadratic loss.";
}

/// <summary>What a caller of Evaluate asked to measure: whatever suits the network, or a classifier's or a regression's figures only.</summary>
internal enum Measurement
{
    /// <summary>Evaluate: a classifier's figures or a regression's, as the network is.</summary>
    Any,

    /// <summary>EvaluateClassifier: accuracy and confusion matrix; refused for a network that cannot classify.</summary>
    Classifier,

    /// <summary>EvaluateRegression: R², RMSE and MAE; refused for a classifier.</summary>
    Regression,
}
