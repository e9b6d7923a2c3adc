using System;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>
/// Runs a forward pass as training runs it, for <c>ComputeGradients</c> and <c>CheckGradients</c>
/// (which otherwise run in inference mode, as Predict and Evaluate do): dropout then draws its
/// masks, keyed by the seed, the optimizer step and each example's place in the epoch's order,
/// exactly as <c>Fit</c> draws them with <see cref="FitOptions{T}.Seed"/> at that step. The same
/// mode gives the same masks, so a gradient in training mode is a fixed function of the
/// parameters and can be checked against finite differences.
/// </summary>
public sealed record TrainingMode
{
    private readonly long step = 1;
    private readonly int firstExample;

    /// <summary>A training mode keyed by <paramref name="seed"/>, at step 1, for a batch at the start of the epoch.</summary>
    /// <param name="seed">The training seed (<see cref="FitOptions{T}.Seed"/>).</param>
    public TrainingMode(long seed)
    {
        Seed = seed;
    }

    /// <summary>The training seed (<see cref="FitOptions{T}.Seed"/>).</summary>
    public long Seed { get; init; }

    /// <summary>The optimizer step the batch's gradient is for, from 1.</summary>
    public long Step
    {
        get => step;
        init => step = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Step), value, $"Steps are counted from 1, got {value}.");
    }

    /// <summary>The place in the epoch's order of the batch's first example, from 0 (batch b of size m starts at b·m).</summary>
    public int FirstExample
    {
        get => firstExample;
        init => firstExample = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(FirstExample), value, $"Places in the epoch are counted from 0, got {value}.");
    }

    /// <summary>The core's mode for a pass in <paramref name="mode"/>, inference when it is null.</summary>
    internal static Core.Mode ToCore(TrainingMode? mode) =>
        mode is null ? Core.Mode.Inference : Core.Mode.NewTraining(new Core.BatchKey(unchecked((ulong)mode.Seed), mode.Step, mode.FirstExample));
}
