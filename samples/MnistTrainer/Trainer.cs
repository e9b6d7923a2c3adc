using System;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Threading;
using FunctionalBackprop.Onnx;
using Spectre.Console;

namespace FunctionalBackprop.Samples;

/// <summary>
/// How a network is trained: <see cref="NeuralNetwork{T}.Fit(Dataset{T}, FitOptions{T}?, IProgress{EpochReport}?, CancellationToken)"/>
/// (or <see cref="TrainingCheckpoint{T}.Resume"/> from a checkpoint), or another trainer with its options and progress.
/// </summary>
internal delegate FitResult<T> Fit<T>(NeuralNetwork<T> network, Dataset<T> data, FitOptions<T> options, IProgress<EpochReport> progress, TrainingCheckpoint<T>? from, CancellationToken cancellationToken)
    where T : IFloatingPointIeee754<T>;

/// <summary>Loads the digits, builds the network, trains it under a progress bar, and saves the results.</summary>
internal static class Trainer
{
    /// <summary>
    /// The main job with <paramref name="settings"/> (from scratch, or from the checkpoint of
    /// --resume), trained in this process, or by <paramref name="fit"/> (described by
    /// <paramref name="where"/>), until it ends or <paramref name="cancellationToken"/> stops it.
    /// </summary>
    public static int Run<T>(Settings settings, CancellationToken cancellationToken, Fit<T>? fit = null, string? where = null)
        where T : IFloatingPointIeee754<T>
    {
        var digits = Mnist.Load<T>(settings.DataFolder);
        var training = settings.TrainingData(digits.Training);
        var built = settings.Builder().Build<T>(settings.Seed);
        var from = settings.ResumePath is { } resume ? Resumable(resume, built) : null;
        var network = from?.Network ?? built;
        var stepsPerEpoch = (training.Count + settings.BatchSize - 1) / settings.BatchSize;
        var options = new FitOptions<T>
        {
            Epochs = settings.Epochs,
            BatchSize = settings.BatchSize,
            Shards = settings.Shards,
            Loss = settings.LossFunction,
            Optimizer = settings.MakeOptimizer(settings.RateSchedule(stepsPerEpoch)),
            Seed = settings.Seed,
            L2 = settings.L2,
            ValidationData = digits.Test,
            Checkpoints = settings.Checkpoints,
        };
        if (settings.CheckpointPath is { } checkpoint)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(checkpoint))!);
        }

        var total = digits.Test.Count;
        AnsiConsole.MarkupLine($"[bold]{settings.Architecture}[/] {Markup.Escape(settings.Activation)}{Markup.Escape(settings.DropoutNote)}{Markup.Escape(settings.ShiftNote)}, {Markup.Escape(settings.Loss)}, {Markup.Escape(options.Optimizer.Name)}, batch {settings.BatchSize}, {settings.Epochs} epochs, {(settings.Float32 ? "float32" : "float64")}");
        AnsiConsole.MarkupLine($"{digits.Training.Count} training{(training.Count == digits.Training.Count ? "" : $" ({training.Count} with their shifted copies)")} and {total} test digits from {Markup.Escape(settings.DataFolder)}");
        AnsiConsole.MarkupLine($"Matrix products: {Markup.Escape(LinearAlgebra.Provider)}; {Math.Min(settings.Shards == 0 ? LinearAlgebra.AutomaticShards : settings.Shards, settings.BatchSize)} shard(s) per mini-batch{(where is null ? "" : $" {Markup.Escape(where)}")}");
        if (from is not null)
        {
            AnsiConsole.MarkupLine($"Resuming from {Markup.Escape(settings.ResumePath!)}: {from.Epoch} epoch(s) and {from.Step} step(s) done");
        }

        if (settings.Checkpoints is { } periodic)
        {
            AnsiConsole.MarkupLine($"Checkpoints {Markup.Escape(periodic.ToString())}");
        }

        FitResult<T>? result = null;
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("training", maxValue: settings.Epochs);
                task.Value = from?.Epoch ?? 0;
                var progress = new Reporter(report =>
                {
                    var correct = (int)Math.Round((report.ValidationAccuracy ?? 0) * total);
                    AnsiConsole.MarkupLine($"Epoch {report.Epoch}: {correct} / {total}   [grey]loss {report.TrainingLoss:F4}, {report.Elapsed.TotalSeconds:F1}s[/]");
                    task.Value = report.Epoch;
                });
                result = (fit ?? InThisProcess)(network, training, options, progress, from, cancellationToken);
            });

        if (settings.CheckpointPath is { } path)
        {
            result!.Checkpoint.Save(path);
            AnsiConsole.MarkupLine($"Saved the checkpoint after epoch {result.Checkpoint.Epoch}, step {result.Checkpoint.Step} to {Markup.Escape(path)}");
        }

        var final = result!.Network.EvaluateClassifier(digits.Test, settings.LossFunction);
        AnsiConsole.MarkupLine($"Final test accuracy: [bold]{final.Accuracy:P2}[/] ({(int)Math.Round(final.Accuracy * total)} / {total}); test loss {final.Loss:F4}");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(settings.ModelPath))!);
        result.Network.Save(settings.ModelPath);
        LearningCurve.Save(settings.PlotPath, result.History, $"MNIST {settings.Architecture}{settings.DropoutNote}, {options.Optimizer.Name}");
        AnsiConsole.MarkupLine($"Saved the model to {Markup.Escape(settings.ModelPath)} and the learning curve to {Markup.Escape(settings.PlotPath)}");
        if (settings.OnnxPath is { } onnx)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(onnx))!);
            result.Network.SaveOnnx(onnx);
            AnsiConsole.MarkupLine($"Saved the model as ONNX to {Markup.Escape(onnx)}");
        }
        return 0;
    }

    /// <summary>
    /// The checkpoint of --resume at <paramref name="path"/>; refused, naming the option and the
    /// file, when it is missing, damaged, or holds another network than <paramref name="built"/>,
    /// the one the options describe.
    /// </summary>
    private static TrainingCheckpoint<T> Resumable<T>(string path, NeuralNetwork<T> built)
        where T : IFloatingPointIeee754<T>
    {
        TrainingCheckpoint<T> checkpoint;
        try
        {
            checkpoint = TrainingCheckpoint<T>.Load(path);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new InvalidDataException($"--resume {path}: {e.Message}", e);
        }

        var held = Describe(checkpoint.Network);
        var described = Describe(built);
        if (held != described)
        {
            throw new ArgumentException($"--resume {path}: the checkpoint holds the network {held}, but the options describe {described}; resume with the options of the run that saved it.");
        }

        return checkpoint;
    }

    /// <summary>"dense 784→30 relu, dense 30→10 softmax": the network's layers, in order.</summary>
    private static string Describe<T>(NeuralNetwork<T> network)
        where T : IFloatingPointIeee754<T> =>
        string.Join(", ", network.Layers.Select(layer => layer.Description));

    /// <summary>Fit, or Resume from a checkpoint, in this process.</summary>
    private static FitResult<T> InThisProcess<T>(NeuralNetwork<T> network, Dataset<T> data, FitOptions<T> options, IProgress<EpochReport> progress, TrainingCheckpoint<T>? from, CancellationToken cancellationToken)
        where T : IFloatingPointIeee754<T> =>
        from is null ? network.Fit(data, options, progress, cancellationToken) : from.Resume(data, options, progress, cancellationToken);

    /// <summary>An IProgress that runs on the training thread, so lines appear in order.</summary>
    private sealed class Reporter(Action<EpochReport> action) : IProgress<EpochReport>
    {
        public void Report(EpochReport value) => action(value);
    }
}
