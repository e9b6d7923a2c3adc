using System;
using System.IO;
using System.Numerics;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.FSharp.Core;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>
/// A network (with its scaler) and its optimizer's state and position (epoch, step): training
/// resumed from it continues exactly as the uninterrupted run would have, even after a save and a
/// load. It may stand at an epoch's end or between two batches of an epoch (a run cancelled, or a
/// checkpoint saved every so many steps): resuming then goes on with the next batch of the same
/// shuffled order, and the epoch's report goes on from the running loss of the batches before.
/// It does not hold the stopping rules' record: with <see cref="FitOptions{T}.EarlyStoppingPatience"/> the
/// resumed run counts its best epoch from the resume, and an epoch resumed part-way is not judged by
/// <see cref="FitOptions{T}.WeightChangeTolerance"/>; runs without stopping rules resume exactly.
/// </summary>
/// <typeparam name="T">double or float.</typeparam>
public sealed class TrainingCheckpoint<T>
    where T : IFloatingPointIeee754<T>
{
    internal TrainingCheckpoint(NeuralNetwork<T> network, Core.OptimizerState<T> state, string optimizerName, int epoch, long step, FSharpOption<double>? runningLoss)
    {
        Network = network;
        OptimizerState = state;
        OptimizerName = optimizerName;
        Epoch = epoch;
        Step = step;
        RunningLoss = runningLoss;
    }

    /// <summary>The core's checkpoint, saved by a run of <paramref name="optimizerName"/> training <paramref name="trained"/> (whose scalers it keeps).</summary>
    internal TrainingCheckpoint(Core.Checkpoint<T> checkpoint, NeuralNetwork<T> trained, string optimizerName)
        : this(trained.WithCore(checkpoint.Network), checkpoint.OptimizerState, optimizerName, checkpoint.Epoch, checkpoint.Step, checkpoint.RunningLoss)
    {
    }

    /// <summary>The network.</summary>
    public NeuralNetwork<T> Network { get; }

    /// <summary>The name of the optimizer whose state this is; resuming needs the same one.</summary>
    public string OptimizerName { get; }

    /// <summary>Epochs completed.</summary>
    public int Epoch { get; }

    /// <summary>
    /// Optimizer steps taken: with B batches per epoch, Step − Epoch·B of them are batches of
    /// epoch Epoch + 1 (none at an epoch's end).
    /// </summary>
    public long Step { get; }

    internal Core.OptimizerState<T> OptimizerState { get; }

    /// <summary>When the checkpoint stands inside an epoch: the running loss of its batches taken (null otherwise, and in files of earlier versions).</summary>
    internal FSharpOption<double>? RunningLoss { get; }

    /// <summary>Continues training up to <see cref="FitOptions{T}.Epochs"/> with the same data and options as before.</summary>
    /// <param name="data">The training examples (the same as before, for an exact continuation).</param>
    /// <param name="options">The same options as before; Epochs may be raised (a schedule over the whole run then stretches, so keep it for an exact continuation).</param>
    /// <param name="progress">Told after every epoch (and batch), on the training thread; see <see cref="NeuralNetwork{T}.Fit(Dataset{T}, FitOptions{T}?, IProgress{EpochReport}?, CancellationToken)"/>.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    /// <exception cref="ArgumentException">The options' optimizer is not the one this checkpoint was made with, or its step does not fit the options' batch size and the data's count (it was made with others).</exception>
    public FitResult<T> Resume(Dataset<T> data, FitOptions<T> options, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        Network.Train(Examples<T>.Of(data, nameof(data)), options ?? throw new ArgumentNullException(nameof(options)), this, progress, cancellationToken);

    /// <summary><see cref="Resume"/> on a thread-pool thread.</summary>
    /// <param name="data">The training examples.</param>
    /// <param name="options">The same options as before.</param>
    /// <param name="progress">Told after every epoch (and batch), on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public Task<FitResult<T>> ResumeAsync(Dataset<T> data, FitOptions<T> options, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Resume(data, options, progress, cancellationToken), cancellationToken);

    /// <summary>Saves the network and the training state to a file, atomically (see <see cref="NeuralNetwork{T}.Save(string)"/>).</summary>
    /// <param name="path">The file to create or replace.</param>
    public void Save(string path) => ModelStorage.SaveAtomically(path, stream => Save(stream));

    /// <summary>Writes the network and the training state to a stream.</summary>
    /// <param name="stream">A writable stream; left open.</param>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Core.ModelFile.write(stream, Network.Contents(new Core.TrainingState<T>(OptimizerName, OptimizerState, Epoch, Step, RunningLoss)));
    }

    /// <summary>Loads a checkpoint saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="InvalidDataException">The file is damaged, from a newer version, or holds no training state.</exception>
    public static TrainingCheckpoint<T> Load(string path) => ModelStorage.Read(path, Load);

    /// <summary>Reads a checkpoint from a stream.</summary>
    /// <param name="stream">A readable stream; read to its end and left open.</param>
    /// <exception cref="InvalidDataException">The content is damaged, from a newer version, or holds no training state.</exception>
    public static TrainingCheckpoint<T> Load(Stream stream)
    {
        var contents = NeuralNetwork<T>.Read(stream);
        if (contents.Training is null)
        {
            throw new InvalidDataException("The file holds a network but no training state: load it with NeuralNetwork<T>.Load, or save a checkpoint (FitResult.Checkpoint.Save) to resume training.");
        }

        var t = contents.Training.Value;
        return new TrainingCheckpoint<T>(NeuralNetwork<T>.FromContents(contents), t.OptimizerState, t.OptimizerName, t.Epoch, t.Step, t.RunningLoss);
    }
}
