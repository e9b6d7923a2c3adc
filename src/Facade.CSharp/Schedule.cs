using System;
using System.Globalization;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>What the lengths of a <see cref="Schedule"/> count.</summary>
public enum ScheduleUnit
{
    /// <summary>Optimizer steps, one per mini-batch.</summary>
    Steps,

    /// <summary>Epochs, passes over the training data; converted to steps when training starts (epochs × batches per epoch).</summary>
    Epochs,
}

/// <summary>
/// A learning rate as a function of the optimizer step t = 1, 2, … A plain number converts to a
/// constant schedule, so <c>Optimizer.Sgd(0.1)</c> and <c>Optimizer.Sgd(Schedule.InverseTime(0.5))</c>
/// both work. Decays can be given in epochs (<see cref="ScheduleUnit.Epochs"/>), and
/// <see cref="Cosine(double, double)"/> spans the whole run: training converts them to steps once it
/// knows the batches per epoch. Immutable; parameters are checked when the schedule is made.
/// </summary>
public sealed class Schedule
{
    private readonly Func<int, int, Core.Schedule> resolve;
    private readonly string? name;
    private readonly bool checkedWhenUsed;

    private Schedule(ScheduleUnit unit, Func<int, int, Core.Schedule> resolve, string? name, Func<string?, string>? parameters, string code)
    {
        Unit = unit;
        this.resolve = resolve;
        this.name = name;
        Code = code;
        checkedWhenUsed = parameters is null;
        if (parameters is not null)
        {
            CallerTerms.Call(() => { Core.ScheduleModule.validate(Representative); return 0; }, parameters);
        }
    }

    /// <summary>Whether the schedule's lengths count steps or epochs.</summary>
    public ScheduleUnit Unit { get; }

    /// <summary>How a C# caller writes it, for messages: "0.1", "Schedule.InverseTime(0.5)", ….</summary>
    internal string Code { get; }

    /// <summary>The core schedule with one step per epoch and a run of one epoch: the shape the parameters are checked in.</summary>
    internal Core.Schedule Representative => resolve(1, 1);

    /// <summary>ηₜ = η.</summary>
    /// <param name="rate">η, positive and finite.</param>
    /// <exception cref="ArgumentOutOfRangeException">The rate is not positive and finite.</exception>
    public static Schedule Constant(double rate) =>
        PerStep(Core.Schedule.NewConstant(rate), _ => nameof(rate), CSharpCode.Call("Schedule.Constant", CSharpCode.Number(rate)));

    /// <summary>ηₜ = η/t, the lecture's Robbins–Monro example (ηₜ → 0, Σηₜ = ∞, Σηₜ² &lt; ∞).</summary>
    /// <param name="initial">η, positive and finite.</param>
    public static Schedule InverseTime(double initial) =>
        PerStep(Core.Schedule.NewInverseTime(initial), _ => nameof(initial), CSharpCode.Call("Schedule.InverseTime", CSharpCode.Number(initial)));

    /// <summary>ηₜ = η·factor^⌊(t − 1)/every⌋: multiplied by <paramref name="factor"/> every <paramref name="every"/> steps or epochs.</summary>
    /// <param name="initial">η, positive and finite.</param>
    /// <param name="factor">In (0, 1].</param>
    /// <param name="every">Steps (or epochs) between decays, at least 1.</param>
    /// <param name="unit">What <paramref name="every"/> counts.</param>
    public static Schedule StepDecay(double initial, double factor, int every, ScheduleUnit unit = ScheduleUnit.Steps)
    {
        string Rename(string? core) => core switch { "factor" => nameof(factor), "every" => nameof(every), _ => nameof(initial) };
        var code = CSharpCode.Call("Schedule.StepDecay", CSharpCode.Number(initial), CSharpCode.Number(factor), $"every: {every}", UnitCode(unit));
        return unit == ScheduleUnit.Steps
            ? PerStep(Core.Schedule.NewStepDecay(initial, factor, every), Rename, code)
            : PerEpoch((b, _) => Core.Schedule.NewStepDecay(initial, factor, Steps(every, b)), Invariant($"step-decay({initial}, ×{factor} every {every} epochs)"), Rename, code);
    }

    /// <summary>
    /// ηₜ = η·factor^(t − 1) per step; per epoch, η·factor^(e − 1) throughout epoch e (a step decay
    /// with one epoch's steps between decays).
    /// </summary>
    /// <param name="initial">η, positive and finite.</param>
    /// <param name="factor">In (0, 1].</param>
    /// <param name="unit">Whether the rate falls after every step or after every epoch.</param>
    public static Schedule Exponential(double initial, double factor, ScheduleUnit unit = ScheduleUnit.Steps)
    {
        string Rename(string? core) => core == "factor" ? nameof(factor) : nameof(initial);
        var code = CSharpCode.Call("Schedule.Exponential", CSharpCode.Number(initial), CSharpCode.Number(factor), UnitCode(unit));
        return unit == ScheduleUnit.Steps
            ? PerStep(Core.Schedule.NewExponential(initial, factor), Rename, code)
            : PerEpoch((b, _) => Core.Schedule.NewStepDecay(initial, factor, b), Invariant($"exponential({initial}, ×{factor} per epoch)"), Rename, code);
    }

    /// <summary>Cosine decay from η to η_end over <paramref name="length"/> steps or epochs (Loshchilov and Hutter, without restarts), then η_end.</summary>
    /// <param name="initial">η, positive and finite.</param>
    /// <param name="final">η_end, positive and at most η.</param>
    /// <param name="length">Steps (or epochs) of the decay, at least 1.</param>
    /// <param name="unit">What <paramref name="length"/> counts.</param>
    public static Schedule Cosine(double initial, double final, int length, ScheduleUnit unit = ScheduleUnit.Steps)
    {
        string Rename(string? core) => core switch { "steps" => nameof(length), "final" or "final learning rate" => nameof(final), _ => nameof(initial) };
        var code = CSharpCode.Call("Schedule.Cosine", CSharpCode.Number(initial), CSharpCode.Number(final), $"{length}", UnitCode(unit));
        return unit == ScheduleUnit.Steps
            ? PerStep(Core.Schedule.NewCosine(initial, final, length), Rename, code)
            : PerEpoch((b, _) => Core.Schedule.NewCosine(initial, final, Steps(length, b)), Invariant($"cosine({initial} → {final} over {length} epochs)"), Rename, code);
    }

    /// <summary>Cosine decay from η to η_end over the whole training run (every epoch's steps), the usual way to use it.</summary>
    /// <param name="initial">η, positive and finite.</param>
    /// <param name="final">η_end, positive and at most η.</param>
    public static Schedule Cosine(double initial, double final)
    {
        string Rename(string? core) => core is "final" or "final learning rate" ? nameof(final) : nameof(initial);
        return PerEpoch((b, epochs) => Core.Schedule.NewCosine(initial, final, Steps(epochs, b)), Invariant($"cosine({initial} → {final} over the run)"), Rename, CSharpCode.Call("Schedule.Cosine", CSharpCode.Number(initial), CSharpCode.Number(final)));
    }

    /// <summary>
    /// A constant schedule. The rate is checked where the schedule is used, so that an error names
    /// that parameter (<c>Optimizer.Sgd(0)</c> reports <c>learningRate</c>).
    /// </summary>
    /// <param name="rate">Positive and finite.</param>
    public static implicit operator Schedule(double rate) =>
        new(ScheduleUnit.Steps, (_, _) => Core.Schedule.NewConstant(rate), null, null, CSharpCode.Number(rate));

    /// <summary>ηₜ for step t ≥ 1 of a schedule counted in steps.</summary>
    /// <param name="step">t, counted from 1.</param>
    /// <exception cref="InvalidOperationException">The schedule counts epochs: convert it with <see cref="ForTraining"/> first.</exception>
    public double RateAt(long step)
    {
        if (Unit == ScheduleUnit.Epochs)
        {
            throw new InvalidOperationException($"{this} counts epochs; ForTraining(stepsPerEpoch, epochs) gives its rate per step.");
        }

        return CallerTerms.Call(() => Core.ScheduleModule.rate(ToCore("rate", 1, 1), step), _ => nameof(step));
    }

    /// <summary>The same schedule counted in steps, for a run of <paramref name="epochs"/> epochs of <paramref name="stepsPerEpoch"/> steps (itself when it already counts steps).</summary>
    /// <param name="stepsPerEpoch">Batches per epoch, at least 1.</param>
    /// <param name="epochs">Epochs of the run, at least 1.</param>
    public Schedule ForTraining(int stepsPerEpoch, int epochs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepsPerEpoch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        return Unit == ScheduleUnit.Steps ? this : PerStep(ToCore("schedule", stepsPerEpoch, epochs), _ => nameof(stepsPerEpoch), $"{Code}.ForTraining({stepsPerEpoch}, {epochs})");
    }

    /// <summary>"constant(0.1)", "1/t(0.5)", "cosine(0.05 → 0.0005 over the run)", …</summary>
    public override string ToString() => name ?? Core.ScheduleModule.name(Representative);

    /// <summary>The core schedule for a run of <paramref name="epochs"/> epochs of <paramref name="stepsPerEpoch"/> steps; errors name <paramref name="parameter"/> for a constant that was not checked yet.</summary>
    internal Core.Schedule ToCore(string parameter, int stepsPerEpoch, int epochs)
    {
        Validate(parameter);
        return resolve(stepsPerEpoch, epochs);
    }

    /// <summary>Checks a rate converted from a plain number, naming the parameter it was given for.</summary>
    internal void Validate(string parameter)
    {
        if (checkedWhenUsed)
        {
            CallerTerms.Check(() => Core.ScheduleModule.validate(Representative), parameter);
        }
    }

    private static Schedule PerStep(Core.Schedule core, Func<string?, string> parameters, string code) =>
        new(ScheduleUnit.Steps, (_, _) => core, null, parameters, code);

    private static Schedule PerEpoch(Func<int, int, Core.Schedule> resolve, string name, Func<string?, string> parameters, string code) =>
        new(ScheduleUnit.Epochs, resolve, name, parameters, code);

    /// <summary>The unit argument as a caller writes it, or null for the default (steps).</summary>
    private static string? UnitCode(ScheduleUnit unit) => unit == ScheduleUnit.Steps ? null : $"{nameof(ScheduleUnit)}.{unit}";

    /// <summary>count epochs × stepsPerEpoch steps; too many for a schedule to count is an error at the start of training.</summary>
    private static int Steps(int count, int stepsPerEpoch)
    {
        var steps = (long)count * stepsPerEpoch;
        return steps <= int.MaxValue
            ? (int)steps
            : throw new ArgumentOutOfRangeException(nameof(count), count, $"{count} epochs of {stepsPerEpoch} steps are {steps} steps, more than a schedule counts ({int.MaxValue}).");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
