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

// Training: Fit and FitAsync for every shape of examples, and the translation to the core's fold.
public sealed partial class NeuralNetwork<T>
{
    /// <summary>Trains a copy of this network on the examples and returns it with its history.</summary>
    /// <param name="data">The training examples (raw inputs, when the network has a scaler).</param>
    /// <param name="options">How to train; the defaults of <see cref="FitOptions{T}"/> when null.</param>
    /// <param name="progress">
    /// Told after every epoch, synchronously on the training thread; if it also implements
    /// <see cref="IProgress{BatchReport}"/> (as <see cref="TrainingProgress"/> does), after every
    /// batch too. Not a <see cref="Progress{T}"/>, whose reports arrive later on the thread pool.
    /// </param>
    /// <param name="cancellationToken">Stops training between batches; the result then holds what was learned so far.</param>
    /// <exception cref="ArgumentException">The data do not fit the network, or the loss does not suit its output layer or the targets.</exception>
    /// <exception cref="InvalidOperationException">The network cannot be trained: a layer uses the step activation, which passes no gradient.</exception>
    /// <exception cref="TrainingDivergedException{T}">The loss stopped being finite; the exception carries the last finite network.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled before training began.</exception>
    public FitResult<T> Fit(Dataset<T> data, FitOptions<T>? options = null, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        FitOn(Examples<T>.Of(data, nameof(data)), options, progress, cancellationToken);

    /// <summary>Trains on inputs and targets at the same indices.</summary>
    /// <param name="inputs">One array per example.</param>
    /// <param name="targets">One array per example.</param>
    /// <param name="options">How to train; the defaults when null.</param>
    /// <param name="progress">Told after every epoch (and batch, see <see cref="Fit(Dataset{T}, FitOptions{T}?, IProgress{EpochReport}?, CancellationToken)"/>).</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public FitResult<T> Fit(T[][] inputs, T[][] targets, FitOptions<T>? options = null, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        FitOn(Examples<T>.Of(inputs, targets), options, progress, cancellationToken);

    /// <summary>Trains on inputs and integer class labels, one-hot encoded for the output layer (0/1 for a single output).</summary>
    /// <param name="inputs">One array per example.</param>
    /// <param name="labels">One class per example, 0 … classes − 1 (an array, or the labels a CSV file gave).</param>
    /// <param name="options">How to train; the defaults when null.</param>
    /// <param name="progress">Told after every epoch (and batch, see <see cref="Fit(Dataset{T}, FitOptions{T}?, IProgress{EpochReport}?, CancellationToken)"/>).</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public FitResult<T> Fit(T[][] inputs, IReadOnlyList<int> labels, FitOptions<T>? options = null, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        FitOn(Examples<T>.Labelled(inputs, labels, OutputWidth), options, progress, cancellationToken);

    /// <summary>Trains on (input, target) pairs.</summary>
    /// <param name="examples">The pairs.</param>
    /// <param name="options">How to train; the defaults when null.</param>
    /// <param name="progress">Told after every epoch (and batch, see <see cref="Fit(Dataset{T}, FitOptions{T}?, IProgress{EpochReport}?, CancellationToken)"/>).</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public FitResult<T> Fit(IEnumerable<(T[] Input, T[] Target)> examples, FitOptions<T>? options = null, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        Fit(Dataset<T>.FromPairs(examples), options, progress, cancellationToken);

    /// <summary><see cref="Fit(Dataset{T}, FitOptions{T}?, IProgress{EpochReport}?, CancellationToken)"/> on a thread-pool thread, which then is the training thread that progress is told on.</summary>
    /// <param name="data">The training examples.</param>
    /// <param name="options">How to train; the defaults when null.</param>
    /// <param name="progress">Told after every epoch (and batch), on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public Task<FitResult<T>> FitAsync(Dataset<T> data, FitOptions<T>? options = null, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Fit(data, options, progress, cancellationToken), cancellationToken);

    /// <summary>Trains on inputs and targets on a thread-pool thread.</summary>
    /// <param name="inputs">One array per example.</param>
    /// <param name="targets">One array per example.</param>
    /// <param name="options">How to train; the defaults when null.</param>
    /// <param name="progress">Told after every epoch (and batch), on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public Task<FitResult<T>> FitAsync(T[][] inputs, T[][] targets, FitOptions<T>? options = null, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Fit(inputs, targets, options, progress, cancellationToken), cancellationToken);

    /// <summary>Trains on inputs and integer class labels on a thread-pool thread.</summary>
    /// <param name="inputs">One array per example.</param>
    /// <param name="labels">One class per example.</param>
    /// <param name="options">How to train; the defaults when null.</param>
    /// <param name="progress">Told after every epoch (and batch), on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public Task<FitResult<T>> FitAsync(T[][] inputs, IReadOnlyList<int> labels, FitOptions<T>? options = null, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Fit(inputs, labels, options, progress, cancellationToken), cancellationToken);

    /// <summary>Trains on (input, target) pairs on a thread-pool thread.</summary>
    /// <param name="examples">The pairs.</param>
    /// <param name="options">How to train; the defaults when null.</param>
    /// <param name="progress">Told after every epoch (and batch), on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public Task<FitResult<T>> FitAsync(IEnumerable<(T[] Input, T[] Target)> examples, FitOptions<T>? options = null, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Fit(examples, options, progress, cancellationToken), cancellationToken);

    /// <summary>
    /// This network ready to be trained on the examples: with a standard scaler fitted to their
    /// targets when the options ask for one (<see cref="FitOptions{T}.TargetScaling"/>), the
    /// network has none, its output layer gives any real value and the targets fit it; else itself.
    /// Fit calls it, and so does a distributed trainer; resuming a checkpoint does not, since the
    /// checkpoint's network already is what its run trained.
    /// </summary>
    internal NeuralNetwork<T> ForTraining(Examples<T> examples, FitOptions<T> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var targets = examples.ForOutputs(OutputWidth).Data.Targets;
        var scales = TargetScaler is null && options.TargetScaling == TargetScaling.Standard && Core.ActivationModule.hasRealRange(CoreNetwork.OutputActivation) && targets.Rows == OutputWidth;
        return scales ? WithTargetScaler(new Scaler(CallerTerms.Call(() => Core.ScalerModule.fitStandard(targets), examples.Targets.Parameter))) : this;
    }

    /// <summary>Fit: this network, with a target scaler if the options call for one, trained from a fresh optimizer state.</summary>
    private FitResult<T> FitOn(Examples<T> examples, FitOptions<T>? options, IProgress<EpochReport>? progress, CancellationToken cancellationToken)
    {
        var chosen = options ?? new FitOptions<T>();
        return ForTraining(examples, chosen).Train(examples, chosen, null, progress, cancellationToken);
    }

    /// <summary>
    /// Runs the core's training fold, from <paramref name="resume"/> or from a fresh optimizer
    /// state, and translates its result. Everything the caller gave is checked here first, so that
    /// errors speak the caller's terms.
    /// </summary>
    internal FitResult<T> Train(Examples<T> examples, FitOptions<T> options, TrainingCheckpoint<T>? resume, IProgress<EpochReport>? progress, CancellationToken cancellationToken) =>
        Train(examples, options, resume, progress, Core.ShardExecution<T>.Local, cancellationToken);

    /// <summary>
    /// <see cref="Train(Examples{T}, FitOptions{T}, TrainingCheckpoint{T}?, IProgress{EpochReport}?, CancellationToken)"/>
    /// with the mini-batches' shards computed where <paramref name="execution"/> says (another
    /// machine's workers, for FunctionalBackprop.Orleans): the same checks, reports, stopping
    /// rules, cancellation and checkpoints as Fit.
    /// </summary>
    internal FitResult<T> Train(Examples<T> examples, FitOptions<T> options, TrainingCheckpoint<T>? resume, IProgress<EpochReport>? progress, Core.ShardExecution<T> execution, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Core.Network.untrainable(CoreNetwork) is { } why)
        {
            throw new InvalidOperationException(why.Value);
        }

        var loss = options.Loss ?? DefaultLoss;
        var coreLoss = loss.ToCore(nameof(options));
        examples = examples.ForOutputs(OutputWidth);
        Check(examples, coreLoss, nameof(options));
        var validation = options.ValidationData is { } v ? Examples<T>.Of(v, $"{nameof(options)}.{nameof(options.ValidationData)}").ForOutputs(OutputWidth) : null;
        if (validation is not null)
        {
            Check(validation, coreLoss, nameof(options));
        }

        var optimizer = CoreOptimizer(options, examples.Data.Count);
        if (resume is not null && optimizer.Name != resume.OptimizerName)
        {
            throw new ArgumentException($"The checkpoint was made by {resume.OptimizerName}, but the options ask for {optimizer.Name}; resuming needs the same optimizer.", nameof(options));
        }

        if (resume is not null && Core.Checkpoint.positionProblem(examples.Data.Count, options.BatchSize, resume.Epoch, resume.Step) is { } misfit)
        {
            throw new ArgumentException($"{misfit.Value} (FitOptions.BatchSize is {options.BatchSize}.)", nameof(options));
        }

        if (options.Checkpoints is { } schedule && !Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(schedule.Path))))
        {
            throw new ArgumentException($"FitOptions.Checkpoints saves to {schedule.Path}, whose folder does not exist; create it first.", nameof(options));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var start = resume is null
            ? new Core.Checkpoint<T>(CoreNetwork, Core.Optimizer.init(optimizer, CoreNetwork), 0, 0L, FSharpOption<double>.None)
            : new Core.Checkpoint<T>(CoreNetwork, resume.OptimizerState, resume.Epoch, resume.Step, resume.RunningLoss);
        var x = Prepare(examples.Data.Inputs, examples.Inputs);
        var y = Learned(examples.Data.Targets, examples.Targets);
        var validationPair = validation is null
            ? FSharpOption<Tuple<Core.Matrix<T>, Core.Matrix<T>>>.None
            : FSharpOption<Tuple<Core.Matrix<T>, Core.Matrix<T>>>.Some(Tuple.Create(Prepare(validation.Data.Inputs, validation.Inputs), Learned(validation.Data.Targets, validation.Targets)));
        var coreOptions = CoreOptions(options, coreLoss, optimizer, validationPair, progress, execution, Checkpoints(options.Checkpoints, optimizer.Name), cancellationToken);
        try
        {
            var result = Core.Training.resume(coreOptions, start, x, y);
            var network = WithCore(result.Network);
            var history = result.History.Select(r => ToEpochReport(r, options.Epochs)).ToArray();
            var checkpoint = new TrainingCheckpoint<T>(network, result.OptimizerState, optimizer.Name, result.Epochs, result.Steps, result.RunningLoss);
            return new FitResult<T>(network, history, ToStopReason(result.Stopped), checkpoint, loss);
        }
        catch (Core.TrainingDivergedException<T> e)
        {
            throw new TrainingDivergedException<T>(Diverged(e, options), WithCore(e.LastFiniteNetwork), e.Epoch, e.Step, e.Loss);
        }
    }

    /// <summary>The core's divergence in the caller's terms: what stopped being finite, and the options' optimizer as the caller wrote it.</summary>
    private static string Diverged(Core.TrainingDivergedException<T> e, FitOptions<T> options)
    {
        var rate = options.Schedule is { } schedule ? $"Schedule = {schedule.Code}" : $"Optimizer = {options.Optimizer.Code}";
        return $"Training diverged at epoch {e.Epoch}, step {e.Step}: {e.Cause} (batch loss {e.Loss}). The exception's LastFiniteNetwork holds the network before that step; try a smaller learning rate than {rate}.";
    }

    /// <summary>The options' optimizer for <paramref name="examples"/> training examples: its schedule in steps for the run, and L2 as a transform before it.</summary>
    private static Core.Optimizer<T> CoreOptimizer(FitOptions<T> options, int examples)
    {
        var optimizer = options.Optimizer.ToCore<T>(options.Schedule, Core.Batches.perEpoch(examples, options.BatchSize), options.Epochs);
        return options.L2 > 0
            ? Core.Optimizer.after(CoreConvert.List(new[] { Core.Transform.l2<T>(options.L2, examples) }), optimizer)
            : optimizer;
    }

    /// <summary>The core's schedule of <paramref name="schedule"/>: each checkpoint, with this network's scaler, saved to its file atomically.</summary>
    private FSharpOption<Core.CheckpointSchedule<T>> Checkpoints(CheckpointSchedule? schedule, string optimizerName) =>
        schedule is null
            ? FSharpOption<Core.CheckpointSchedule<T>>.None
            : FSharpOption<Core.CheckpointSchedule<T>>.Some(new Core.CheckpointSchedule<T>(
                schedule.Interval, FuncConvert.FromAction<Core.Checkpoint<T>>(c => new TrainingCheckpoint<T>(c, this, optimizerName).Save(schedule.Path))));

    private static Core.TrainingOptions<T> CoreOptions(
        FitOptions<T> options,
        Core.Loss loss,
        Core.Optimizer<T> optimizer,
        FSharpOption<Tuple<Core.Matrix<T>, Core.Matrix<T>>> validation,
        IProgress<EpochReport>? progress,
        Core.ShardExecution<T> execution,
        FSharpOption<Core.CheckpointSchedule<T>> checkpoints,
        CancellationToken cancellationToken)
    {
        var stopping = new List<Core.StoppingRule>();
        if (options.EarlyStoppingPatience is { } patience)
        {
            stopping.Add(Core.StoppingRule.NewEarlyStopping(patience));
        }

        if (options.WeightChangeTolerance is { } tolerance)
        {
            stopping.Add(Core.StoppingRule.NewWeightChange(tolerance));
        }

        var batches = progress is TrainingProgress { WantsBatches: false } ? null : progress as IProgress<BatchReport>;
        var onReport = FuncConvert.FromAction<Core.TrainingReport>(r =>
        {
            if (r.Kind.IsEpoch)
            {
                progress?.Report(ToEpochReport(r, options.Epochs));
            }
            else
            {
                batches?.Report(new BatchReport(r.Epoch, options.Epochs, r.Batch, r.BatchesPerEpoch, r.Step, r.BatchLoss, r.RunningLoss, Nullable(r.LearningRate), r.Elapsed));
            }
        });
        return new Core.TrainingOptions<T>(
            loss, optimizer, options.Epochs, options.BatchSize, unchecked((ulong)options.Seed), options.Shards, execution, validation, CoreConvert.List(stopping),
            Core.RunningLoss.Mean, batches is null ? Core.ReportFrequency.EveryEpoch : Core.ReportFrequency.EveryBatch, onReport, cancellationToken, checkpoints);
    }

    private static StopReason ToStopReason(Core.StopReason stopped) => stopped switch
    {
        { IsCompleted: true } => StopReason.Completed,
        { IsWeightsConverged: true } => StopReason.WeightsConverged,
        { IsNoImprovement: true } => StopReason.NoImprovement,
        _ => StopReason.Cancelled,
    };

    private static EpochReport ToEpochReport(Core.TrainingReport r, int epochs) =>
        new(r.Epoch, epochs, r.RunningLoss, Nullable(r.ValidationLoss), Nullable(r.ValidationAccuracy), Nullable(r.LearningRate), r.Elapsed);

    private static double? Nullable(FSharpOption<double>? value) => value is null ? null : value.Value;
}
