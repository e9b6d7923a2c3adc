using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.FSharp.Core;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>Entry points that need no real type: building and loading networks.</summary>
public static class NeuralNetwork
{
    /// <summary>Starts describing a network whose inputs have <paramref name="inputWidth"/> values.</summary>
    /// <param name="inputWidth">At least 1.</param>
    public static NetworkBuilder Create(int inputWidth) => new(inputWidth);

    internal static void CheckRealType<T>()
    {
        if (typeof(T) != typeof(double) && typeof(T) != typeof(float))
        {
            throw new NotSupportedException($"Networks are made of double or float, not {typeof(T).Name}.");
        }
    }
}

/// <summary>
/// A trained or freshly built feed-forward network. Immutable: <see cref="Fit(Dataset{T}, FitOptions{T}, IProgress{EpochReport}?, CancellationToken)"/>
/// returns a new network and leaves this one as it was, so a network can be shared between
/// threads freely.
/// </summary>
/// <typeparam name="T">The real type of its parameters: double or float.</typeparam>
public sealed class NeuralNetwork<T>
    where T : IFloatingPointIeee754<T>
{
    internal NeuralNetwork(Core.Network<T> core)
    {
        CoreNetwork = core;
        Layers = core.Layers.Select(l => new LayerInfo(l.InputWidth, l.OutputWidth, Activation.FromCore(l.Activation))).ToArray();
    }

    /// <summary>The width of an input example.</summary>
    public int InputWidth => CoreNetwork.InputWidth;

    /// <summary>The width of the output.</summary>
    public int OutputWidth => CoreNetwork.OutputWidth;

    /// <summary>The number of weights and biases.</summary>
    public int ParameterCount => CoreNetwork.ParameterCount;

    /// <summary>The layers, input side first.</summary>
    public IReadOnlyList<LayerInfo> Layers { get; }

    internal Core.Network<T> CoreNetwork { get; }

    private bool IsClassifier => Layers[^1].Activation.Kind is ActivationKind.Sigmoid or ActivationKind.Softmax or ActivationKind.Step;

    /// <summary>Layer <paramref name="index"/>'s weights as [unit, input] (Nielsen's wⱼₖ), copied.</summary>
    /// <param name="index">The layer, from 0.</param>
    public T[,] GetWeights(int index) => CoreConvert.ToArray2D(Layer(index).Weights);

    /// <summary>Layer <paramref name="index"/>'s biases, copied.</summary>
    /// <param name="index">The layer, from 0.</param>
    public T[] GetBiases(int index) => Layer(index).Biases.ToArray();

    private Core.Dense<T> Layer(int index) =>
        index >= 0 && index < Layers.Count
            ? CoreNetwork.Layers[index]
            : throw new ArgumentOutOfRangeException(nameof(index), index, $"The network has layers 0 … {Layers.Count - 1}.");

    /// <summary>The output for one input.</summary>
    /// <param name="input"><see cref="InputWidth"/> finite values.</param>
    /// <exception cref="ArgumentException">The input has the wrong length or holds NaN or ∞.</exception>
    /// <exception cref="OverflowException">An output is not finite: a weighted input exceeded the range of <typeparamref name="T"/>.</exception>
    public T[] Predict(ReadOnlySpan<T> input)
    {
        CheckWidth(input.Length, "input");
        var output = Core.Forward.run(CoreNetwork, Core.Matrix.ofColumnMajor(input.Length, 1, input.ToArray()));
        CheckFinite(output, "output (unit, example)");
        return output.ToArray();
    }

    /// <summary>The output for one input.</summary>
    /// <param name="input"><see cref="InputWidth"/> finite values.</param>
    public T[] Predict(T[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Predict(input.AsSpan());
    }

    /// <summary>The outputs for a batch of inputs, one array per example.</summary>
    /// <param name="inputs">One array per example.</param>
    /// <exception cref="OverflowException">An output is not finite: a weighted input exceeded the range of <typeparamref name="T"/>.</exception>
    public T[][] Predict(T[][] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var x = Dataset<T>.Check(inputs, nameof(inputs));
        CheckWidth(x.Rows, "inputs");
        var outputs = Core.Forward.run(CoreNetwork, x);
        CheckFinite(outputs, "output (unit, example)");
        return CoreConvert.Rows(outputs);
    }

    /// <summary>The outputs for a batch of inputs given as [example, feature]; the result is [example, output].</summary>
    /// <param name="inputs">One row per example.</param>
    public T[,] Predict(T[,] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var outputs = Predict(Dataset<T>.RowsOf(inputs));
        var result = new T[outputs.Length, OutputWidth];
        for (var i = 0; i < outputs.Length; i++)
        {
            for (var j = 0; j < OutputWidth; j++)
            {
                result[i, j] = outputs[i][j];
            }
        }

        return result;
    }

    /// <summary>The predicted class: the index of the largest output, or for one output 1 when it is at least ½.</summary>
    /// <param name="input"><see cref="InputWidth"/> finite values.</param>
    public int Classify(ReadOnlySpan<T> input) => Core.Evaluation.classes(Core.Matrix.ofVector(Predict(input)))[0];

    /// <summary>The predicted class of each input.</summary>
    /// <param name="inputs">One array per example.</param>
    public int[] Classify(T[][] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var x = Dataset<T>.Check(inputs, nameof(inputs));
        CheckWidth(x.Rows, "inputs");
        return Core.Evaluation.predict(CoreNetwork, x);
    }

    /// <summary>The mean loss over the examples, and the accuracy for classifiers.</summary>
    /// <param name="data">The examples.</param>
    /// <param name="loss">The cost to measure.</param>
    /// <exception cref="OverflowException">The loss is not finite: a weighted input or the loss exceeded the range of <typeparamref name="T"/>.</exception>
    public EvaluationResult Evaluate(Dataset<T> data, Loss loss)
    {
        CheckData(data);
        var value = Core.Evaluation.loss(loss.ToCore(), CoreNetwork, data.Inputs, data.Targets);
        if (!double.IsFinite(value))
        {
            throw new OverflowException($"The loss is {value}: a weighted input or the loss exceeded the range of {typeof(T).Name}. Scale the inputs (and targets) down.");
        }

        double? accuracy = IsClassifier ? Core.Evaluation.accuracy(CoreNetwork, data.Inputs, data.Targets) : null;
        return new EvaluationResult(value, accuracy);
    }

    /// <summary>The mean loss over the examples, and the accuracy for classifiers.</summary>
    /// <param name="inputs">One array per example.</param>
    /// <param name="targets">One array per example.</param>
    /// <param name="loss">The cost to measure.</param>
    public EvaluationResult Evaluate(T[][] inputs, T[][] targets, Loss loss) => Evaluate(Dataset<T>.FromArrays(inputs, targets), loss);

    /// <summary>The mean loss and accuracy for integer class labels (one-hot encoded, or 0/1 for one output).</summary>
    /// <param name="inputs">One array per example.</param>
    /// <param name="labels">One class per example.</param>
    /// <param name="loss">The cost to measure.</param>
    public EvaluationResult Evaluate(T[][] inputs, int[] labels, Loss loss) => Evaluate(Labelled(inputs, labels), loss);

    /// <summary>The batch's mean cost and its gradient with respect to every weight and bias (by backprop).</summary>
    /// <param name="inputs">One array per example.</param>
    /// <param name="targets">One array per example.</param>
    /// <param name="loss">The cost.</param>
    /// <exception cref="OverflowException">The loss or a gradient entry is not finite: it exceeded the range of <typeparamref name="T"/>.</exception>
    public NetworkGradients<T> ComputeGradients(T[][] inputs, T[][] targets, Loss loss)
    {
        var data = Dataset<T>.FromArrays(inputs, targets);
        CheckData(data);
        var result = Core.Backprop.lossAndGradient(loss.ToCore(), CoreNetwork, data.Inputs, data.Targets);
        if (!T.IsFinite(result.Item1))
        {
            throw new OverflowException($"The loss is {result.Item1}: a weighted input or the loss exceeded the range of {typeof(T).Name}. Scale the inputs (and targets) down.");
        }

        var index = 0;
        foreach (var g in result.Item2.Layers)
        {
            index++;
            CheckFinite(g.dW, $"gradient of layer {index}'s weights, entry (unit, input)");
            CheckFinite(g.db, $"gradient of layer {index}'s biases, entry (unit, 0)");
        }

        var layers = result.Item2.Layers.Select(g => new LayerGradients<T>(CoreConvert.ToArray2D(g.dW), g.db.ToArray())).ToArray();
        return new NetworkGradients<T>(double.CreateTruncating(result.Item1), layers);
    }

    /// <summary>Compares backprop's gradient with finite differences over every parameter.</summary>
    /// <param name="inputs">One array per example (keep the batch small: this costs many forward passes per parameter).</param>
    /// <param name="targets">One array per example.</param>
    /// <param name="loss">The cost.</param>
    public GradientCheckResult CheckGradients(T[][] inputs, T[][] targets, Loss loss)
    {
        var data = Dataset<T>.FromArrays(inputs, targets);
        CheckData(data);
        var r = Core.GradientCheck.run(loss.ToCore(), CoreNetwork, data.Inputs, data.Targets);
        ParameterLocation? worst = r.Worst?.Value switch
        {
            Core.ParameterIndex.Weight w => new ParameterLocation(w.layer - 1, w.row, w.column),
            Core.ParameterIndex.Bias b => new ParameterLocation(b.layer - 1, b.row, null),
            _ => null,
        };
        return new GradientCheckResult(r.MaxRelativeError, worst, r.Analytic, r.Numeric, r.MaxRelativeUncertainty, r.Checked, r.Resolved, r.AtKinks);
    }

    /// <summary>Trains a copy of this network on the examples and returns it with its history.</summary>
    /// <param name="data">The training examples.</param>
    /// <param name="options">How to train.</param>
    /// <param name="progress">Told after every epoch, on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches; the result then holds what was learned so far.</param>
    /// <exception cref="ArgumentException">The data do not fit the network, or the loss does not suit its output layer.</exception>
    /// <exception cref="TrainingDivergedException{T}">The loss stopped being finite; the exception carries the last finite network.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled before training began.</exception>
    public FitResult<T> Fit(Dataset<T> data, FitOptions<T> options, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var optimizer = CoreOptimizer(options, data);
        return Train(data, options, optimizer, new Core.Checkpoint<T>(CoreNetwork, Core.Optimizer.init(optimizer, CoreNetwork), 0, 0L), progress, cancellationToken);
    }

    /// <summary>Trains on inputs and targets at the same indices.</summary>
    /// <param name="inputs">One array per example.</param>
    /// <param name="targets">One array per example.</param>
    /// <param name="options">How to train.</param>
    /// <param name="progress">Told after every epoch.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public FitResult<T> Fit(T[][] inputs, T[][] targets, FitOptions<T> options, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        Fit(Dataset<T>.FromArrays(inputs, targets), options, progress, cancellationToken);

    /// <summary>Trains on inputs and integer class labels, one-hot encoded for the output layer (0/1 for a single output).</summary>
    /// <param name="inputs">One array per example.</param>
    /// <param name="labels">One class per example, 0 … classes − 1.</param>
    /// <param name="options">How to train.</param>
    /// <param name="progress">Told after every epoch.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public FitResult<T> Fit(T[][] inputs, int[] labels, FitOptions<T> options, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        Fit(Labelled(inputs, labels), options, progress, cancellationToken);

    /// <summary>Trains on (input, target) pairs.</summary>
    /// <param name="examples">The pairs.</param>
    /// <param name="options">How to train.</param>
    /// <param name="progress">Told after every epoch.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public FitResult<T> Fit(IEnumerable<(T[] Input, T[] Target)> examples, FitOptions<T> options, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        Fit(Dataset<T>.FromPairs(examples), options, progress, cancellationToken);

    /// <summary><see cref="Fit(Dataset{T}, FitOptions{T}, IProgress{EpochReport}?, CancellationToken)"/> on a thread-pool thread.</summary>
    /// <param name="data">The training examples.</param>
    /// <param name="options">How to train.</param>
    /// <param name="progress">Told after every epoch.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public Task<FitResult<T>> FitAsync(Dataset<T> data, FitOptions<T> options, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Fit(data, options, progress, cancellationToken), cancellationToken);

    /// <summary>Trains on inputs and targets on a thread-pool thread.</summary>
    /// <param name="inputs">One array per example.</param>
    /// <param name="targets">One array per example.</param>
    /// <param name="options">How to train.</param>
    /// <param name="progress">Told after every epoch.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public Task<FitResult<T>> FitAsync(T[][] inputs, T[][] targets, FitOptions<T> options, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        FitAsync(Dataset<T>.FromArrays(inputs, targets), options, progress, cancellationToken);

    /// <summary>Trains on inputs and class labels on a thread-pool thread.</summary>
    /// <param name="inputs">One array per example.</param>
    /// <param name="labels">One class per example.</param>
    /// <param name="options">How to train.</param>
    /// <param name="progress">Told after every epoch.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public Task<FitResult<T>> FitAsync(T[][] inputs, int[] labels, FitOptions<T> options, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        FitAsync(Labelled(inputs, labels), options, progress, cancellationToken);

    /// <summary>Trains on (input, target) pairs on a thread-pool thread.</summary>
    /// <param name="examples">The pairs.</param>
    /// <param name="options">How to train.</param>
    /// <param name="progress">Told after every epoch.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public Task<FitResult<T>> FitAsync(IEnumerable<(T[] Input, T[] Target)> examples, FitOptions<T> options, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        FitAsync(Dataset<T>.FromPairs(examples), options, progress, cancellationToken);

    /// <summary>
    /// Saves the network (architecture, activations, every weight bit for bit) to a file. The file
    /// is written under a temporary name and then renamed over <paramref name="path"/>, so a crash
    /// leaves either the old file or the new one, never half of one. The format is documented in
    /// docs/model-format.md.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    public void Save(string path) => ModelStorage.SaveAtomically(path, stream => Save(stream));

    /// <summary>Writes the network to a stream in the model format.</summary>
    /// <param name="stream">A writable stream; left open.</param>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Core.ModelFile.write(stream, CoreNetwork, FSharpOption<Core.TrainingState<T>>.None);
    }

    /// <summary>Loads a network saved by <see cref="Save(string)"/> (or by <see cref="TrainingCheckpoint{T}.Save(string)"/>).</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt, from a newer version, or holds the other real type.</exception>
    public static NeuralNetwork<T> Load(string path) => ModelStorage.Read(path, Load);

    /// <summary>Reads a network in the model format from a stream.</summary>
    /// <param name="stream">A readable stream; read to its end and left open.</param>
    /// <exception cref="InvalidDataException">The content is truncated, corrupt, from a newer version, or holds the other real type.</exception>
    public static NeuralNetwork<T> Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        NeuralNetwork.CheckRealType<T>();
        return new NeuralNetwork<T>(Core.ModelFile.read<T>(stream).Item1);
    }

    /// <summary>"784-30-10 (sigmoid, sigmoid) float64".</summary>
    public override string ToString() => CoreNetwork.ToString();

    internal Core.Optimizer<T> CoreOptimizer(FitOptions<T> options, Dataset<T> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var optimizer = options.Optimizer.ToCore<T>(options.Schedule);
        return options.L2 > 0
            ? Core.Optimizer.after(CoreConvert.List(new[] { Core.Transform.l2<T>(options.L2, data.Count) }), optimizer)
            : optimizer;
    }

    /// <summary>Runs the core's training fold from a checkpoint and translates its result.</summary>
    internal FitResult<T> Train(Dataset<T> data, FitOptions<T> options, Core.Optimizer<T> optimizer, Core.Checkpoint<T> start, IProgress<EpochReport>? progress, CancellationToken cancellationToken)
    {
        CheckData(data);
        if (options.ValidationData is { } validation)
        {
            CheckData(validation, "validation data");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var stopping = new List<Core.StoppingRule>();
        if (options.EarlyStoppingPatience is { } patience)
        {
            stopping.Add(Core.StoppingRule.NewEarlyStopping(patience));
        }

        if (options.WeightChangeTolerance is { } tolerance)
        {
            stopping.Add(Core.StoppingRule.NewWeightChange(tolerance));
        }

        var validationPair = options.ValidationData is { } v
            ? FSharpOption<Tuple<Core.Matrix<T>, Core.Matrix<T>>>.Some(Tuple.Create(v.Inputs, v.Targets))
            : FSharpOption<Tuple<Core.Matrix<T>, Core.Matrix<T>>>.None;
        var onReport = FuncConvert.FromAction<Core.TrainingReport>(r =>
        {
            if (r.Kind.IsEpoch)
            {
                progress?.Report(ToEpochReport(r, options.Epochs));
            }
        });
        var coreOptions = new Core.TrainingOptions<T>(
            options.Loss.ToCore(), optimizer, options.Epochs, options.BatchSize, unchecked((ulong)options.Seed), options.Shards, validationPair,
            CoreConvert.List(stopping), Core.RunningLoss.Mean, Core.ReportFrequency.EveryEpoch, onReport, cancellationToken);
        try
        {
            var result = Core.Training.resume(coreOptions, start, data.Inputs, data.Targets);
            var network = new NeuralNetwork<T>(result.Network);
            var history = result.History.Select(r => ToEpochReport(r, options.Epochs)).ToArray();
            var stopped = result.Stopped switch
            {
                { IsCompleted: true } => StopReason.Completed,
                { IsWeightsConverged: true } => StopReason.WeightsConverged,
                { IsNoImprovement: true } => StopReason.NoImprovement,
                _ => StopReason.Cancelled,
            };
            var checkpoint = new TrainingCheckpoint<T>(network, result.OptimizerState, optimizer.Name, result.Epochs, result.Steps);
            return new FitResult<T>(network, history, stopped, checkpoint);
        }
        catch (Core.TrainingDivergedException<T> e)
        {
            throw new TrainingDivergedException<T>(e.Message, new NeuralNetwork<T>(e.LastFiniteNetwork), e.Epoch, e.Step, e.Loss, e);
        }
    }

    private static EpochReport ToEpochReport(Core.TrainingReport r, int epochs) =>
        new(r.Epoch, epochs, r.RunningLoss, Nullable(r.ValidationLoss), Nullable(r.ValidationAccuracy), Nullable(r.LearningRate), r.Elapsed);

    private static double? Nullable(FSharpOption<double>? value) => value is null ? null : value.Value;

    private Dataset<T> Labelled(T[][] inputs, int[] labels) =>
        OutputWidth == 1 ? Dataset<T>.FromLabels(inputs, labels, 2, singleOutput: true) : Dataset<T>.FromLabels(inputs, labels, OutputWidth);

    /// <summary>Throws OverflowException naming the first entry of a column-major array that is not finite.</summary>
    private static void CheckFinite(Core.Matrix<T> m, string what)
    {
        var values = m.AsSpan();
        for (var k = 0; k < values.Length; k++)
        {
            if (!T.IsFinite(values[k]))
            {
                throw new OverflowException($"The {what} ({k % m.Rows}, {k / m.Rows}) is {values[k]}: a value exceeded the range of {typeof(T).Name}. Scale the inputs down.");
            }
        }
    }

    private void CheckWidth(int width, string name)
    {
        if (width != InputWidth)
        {
            throw new ArgumentException($"The network takes inputs of {InputWidth} values (layer 1's fan-in), but {name} has {width}.", name);
        }
    }

    private void CheckData(Dataset<T> data, string name = "data")
    {
        ArgumentNullException.ThrowIfNull(data, name);
        if (data.InputWidth != InputWidth)
        {
            throw new ArgumentException($"The network takes inputs of {InputWidth} values (layer 1's fan-in), but the {name}'s inputs have {data.InputWidth}.", name);
        }

        if (data.TargetWidth != OutputWidth)
        {
            throw new ArgumentException($"The network's output layer (layer {Layers.Count}) has {OutputWidth} units, but the {name}'s targets have {data.TargetWidth} values.", name);
        }
    }
}
