using System;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>
/// Where and how often training saves its checkpoint while it runs (<see cref="FitOptions{T}.Checkpoints"/>).
/// Every <see cref="Every"/> optimizer steps or epochs the run's checkpoint (the network with its
/// scaler, the optimizer's state, the epoch and the step) replaces the file at <see cref="Path"/>
/// atomically: it is written to a temporary file in the same folder, flushed to disk and renamed
/// over the target, so a process killed at any moment leaves the previous checkpoint or the new one,
/// whole, never a torn file. Load it with <see cref="TrainingCheckpoint{T}.Load(string)"/> and
/// resume with the same data and options: the result is the uninterrupted run's, bit for bit.
/// <code>
/// var options = new FitOptions { Epochs = 30, Checkpoints = new CheckpointSchedule("run.fbnn", every: 500) };
/// </code>
/// </summary>
public sealed record CheckpointSchedule
{
    /// <summary>A checkpoint saved to <paramref name="path"/> every <paramref name="every"/> steps or epochs.</summary>
    /// <param name="path">The file to create and replace; its folder must exist when training starts.</param>
    /// <param name="every">
    /// Steps or epochs between checkpoints, at least 1. Steps count from the start of training, so a
    /// resumed run keeps the same rhythm; a checkpoint due at an epoch's last step is saved once the
    /// epoch's report is made.
    /// </param>
    /// <param name="unit">What <paramref name="every"/> counts: optimizer steps (the default) or epochs.</param>
    /// <exception cref="ArgumentException">The path is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="every"/> is below 1, or <paramref name="unit"/> is not a unit.</exception>
    public CheckpointSchedule(string path, int every, ScheduleUnit unit = ScheduleUnit.Steps)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!Enum.IsDefined(unit))
        {
            throw new ArgumentOutOfRangeException(nameof(unit), unit, $"{unit} is not a unit of checkpoint intervals.");
        }

        var interval = unit == ScheduleUnit.Steps ? Core.CheckpointInterval.NewSteps(every) : Core.CheckpointInterval.NewEpochs(every);
        if (Core.CheckpointIntervalModule.problem(interval) is { } why)
        {
            throw new ArgumentOutOfRangeException(nameof(every), every, why.Value);
        }

        Path = path;
        Every = every;
        Unit = unit;
        Interval = interval;
    }

    /// <summary>The file each checkpoint replaces.</summary>
    public string Path { get; }

    /// <summary>Steps or epochs between checkpoints.</summary>
    public int Every { get; }

    /// <summary>What <see cref="Every"/> counts.</summary>
    public ScheduleUnit Unit { get; }

    /// <summary>The core's interval.</summary>
    internal Core.CheckpointInterval Interval { get; }

    /// <summary>"every 500 steps → run.fbnn".</summary>
    public override string ToString() => $"every {Every} {(Unit == ScheduleUnit.Steps ? "step" : "epoch")}{(Every == 1 ? "" : "s")} → {Path}";
}
