using System;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>
/// A learning rate as a function of the optimizer step t = 1, 2, … A plain number converts to a
/// constant schedule, so <c>Optimizer.Sgd(0.1)</c> and <c>Optimizer.Sgd(Schedule.InverseTime(0.5))</c>
/// both work. Immutable; the parameters are checked when the schedule is made.
/// </summary>
public sealed class Schedule
{
    private Schedule(Core.Schedule core)
    {
        Core.ScheduleModule.validate(core);
        CoreSchedule = core;
    }

    internal Core.Schedule CoreSchedule { get; }

    /// <summary>ηₜ = η.</summary>
    /// <param name="rate">Positive and finite.</param>
    /// <exception cref="ArgumentOutOfRangeException">The rate is not positive and finite.</exception>
    public static Schedule Constant(double rate) => new(Core.Schedule.NewConstant(rate));

    /// <summary>ηₜ = η/t, the lecture's Robbins–Monro example (ηₜ → 0, Σηₜ = ∞, Σηₜ² &lt; ∞).</summary>
    /// <param name="initial">η, positive and finite.</param>
    public static Schedule InverseTime(double initial) => new(Core.Schedule.NewInverseTime(initial));

    /// <summary>ηₜ = η·factor^⌊(t − 1)/every⌋.</summary>
    /// <param name="initial">η, positive and finite.</param>
    /// <param name="factor">In (0, 1].</param>
    /// <param name="every">Steps between decays, at least 1.</param>
    public static Schedule StepDecay(double initial, double factor, int every) => new(Core.Schedule.NewStepDecay(initial, factor, every));

    /// <summary>ηₜ = η·factor^(t − 1).</summary>
    /// <param name="initial">η, positive and finite.</param>
    /// <param name="factor">In (0, 1].</param>
    public static Schedule Exponential(double initial, double factor) => new(Core.Schedule.NewExponential(initial, factor));

    /// <summary>Cosine decay from η to η_end over the given number of steps, then η_end.</summary>
    /// <param name="initial">η, positive and finite.</param>
    /// <param name="final">η_end, positive and at most η.</param>
    /// <param name="steps">Steps of the decay, at least 1.</param>
    public static Schedule Cosine(double initial, double final, int steps) => new(Core.Schedule.NewCosine(initial, final, steps));

    /// <summary>A constant schedule.</summary>
    /// <param name="rate">Positive and finite.</param>
    public static implicit operator Schedule(double rate) => Constant(rate);

    /// <summary>ηₜ for step t ≥ 1.</summary>
    /// <param name="step">t, counted from 1.</param>
    public double RateAt(long step) => Core.ScheduleModule.rate(CoreSchedule, step);

    /// <summary>"constant(0.1)", "1/t(0.5)", …</summary>
    public override string ToString() => Core.ScheduleModule.name(CoreSchedule);
}
