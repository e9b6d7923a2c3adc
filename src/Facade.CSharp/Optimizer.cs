using System;
using System.Collections.Generic;
using System.Numerics;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>
/// How training moves the parameters: <c>Optimizer.Sgd(0.1)</c>, <c>Optimizer.Adam()</c>,
/// <c>Optimizer.Momentum(0.5, 0.9)</c>, … Immutable; hyper-parameters are checked when the
/// optimizer is made, and <see cref="WithGradientClipping"/> returns a new one.
/// </summary>
public sealed class Optimizer
{
    private readonly Func<Schedule, Core.Optimizer<double>> makeDouble;
    private readonly Func<Schedule, Core.Optimizer<float>> makeSingle;
    private readonly double? clipNorm;

    private Optimizer(Schedule rate, Func<Schedule, Core.Optimizer<double>> makeDouble, Func<Schedule, Core.Optimizer<float>> makeSingle, double? clipNorm)
    {
        LearningRate = rate;
        this.makeDouble = makeDouble;
        this.makeSingle = makeSingle;
        this.clipNorm = clipNorm;
        // Build once now so that bad hyper-parameters fail here, where they were given.
        Name = ToCore<double>(null).Name;
    }

    /// <summary>The optimizer's learning rate (a <see cref="FitOptions{T}.Schedule"/> replaces it).</summary>
    public Schedule LearningRate { get; }

    /// <summary>"adam(constant(0.001), β₁ = 0.9, β₂ = 0.999, ε = 1E-08)", …</summary>
    public string Name { get; }

    private static Optimizer Make(Schedule rate, Func<Schedule, Core.Optimizer<double>> d, Func<Schedule, Core.Optimizer<float>> s)
    {
        ArgumentNullException.ThrowIfNull(rate);
        return new Optimizer(rate, d, s, null);
    }

    /// <summary>Gradient descent, w ← w − ηₜ∇C (Nielsen's w ← w − (η/m)Σ∇Cₓ).</summary>
    /// <param name="learningRate">η, or a schedule; positive.</param>
    public static Optimizer Sgd(Schedule learningRate) =>
        Make(learningRate, r => Core.Optimizer.sgd<double>(r.CoreSchedule), r => Core.Optimizer.sgd<float>(r.CoreSchedule));

    /// <summary>The lecture's momentum: P ← (1 − μ)P + μ∇C, w ← w − ηₜP.</summary>
    /// <param name="learningRate">η, or a schedule.</param>
    /// <param name="mu">The averaging rate μ in (0, 1].</param>
    public static Optimizer Momentum(Schedule learningRate, double mu) =>
        Make(learningRate, r => Core.Optimizer.momentum<double>(r.CoreSchedule, mu), r => Core.Optimizer.momentum<float>(r.CoreSchedule, mu));

    /// <summary>Heavy-ball momentum: v ← βv + ∇C, w ← w − ηₜv.</summary>
    /// <param name="learningRate">η, or a schedule.</param>
    /// <param name="beta">β in [0, 1).</param>
    public static Optimizer HeavyBall(Schedule learningRate, double beta = 0.9) =>
        Make(learningRate, r => Core.Optimizer.heavyBall<double>(r.CoreSchedule, beta), r => Core.Optimizer.heavyBall<float>(r.CoreSchedule, beta));

    /// <summary>Nesterov momentum: v ← βv + ∇C, w ← w − ηₜ(∇C + βv).</summary>
    /// <param name="learningRate">η, or a schedule.</param>
    /// <param name="beta">β in [0, 1).</param>
    public static Optimizer Nesterov(Schedule learningRate, double beta = 0.9) =>
        Make(learningRate, r => Core.Optimizer.nesterov<double>(r.CoreSchedule, beta), r => Core.Optimizer.nesterov<float>(r.CoreSchedule, beta));

    /// <summary>AdaGrad: Γ ← Γ + g², w ← w − ηₜ g/(√Γ + 10⁻⁸).</summary>
    /// <param name="learningRate">η, or a schedule.</param>
    public static Optimizer AdaGrad(Schedule learningRate) =>
        Make(learningRate, r => Core.Optimizer.adaGrad<double>(r.CoreSchedule), r => Core.Optimizer.adaGrad<float>(r.CoreSchedule));

    /// <summary>RMSProp: Γ ← αΓ + (1 − α)g², w ← w − ηₜ g/(√Γ + 10⁻⁸).</summary>
    /// <param name="learningRate">η, or a schedule.</param>
    /// <param name="alpha">α in [0, 1).</param>
    public static Optimizer RmsProp(Schedule learningRate, double alpha = 0.9) =>
        Make(learningRate, r => Core.Optimizer.rmsProp<double>(r.CoreSchedule, alpha), r => Core.Optimizer.rmsProp<float>(r.CoreSchedule, alpha));

    /// <summary>Adam (Kingma and Ba) with bias-corrected moments.</summary>
    /// <param name="learningRate">α, or a schedule; 0.001 when omitted.</param>
    /// <param name="beta1">β₁ in [0, 1).</param>
    /// <param name="beta2">β₂ in [0, 1).</param>
    /// <param name="epsilon">ε &gt; 0.</param>
    public static Optimizer Adam(Schedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8) =>
        Make(learningRate ?? 0.001, r => Core.Optimizer.adamWith<double>(r.CoreSchedule, beta1, beta2, epsilon), r => Core.Optimizer.adamWith<float>(r.CoreSchedule, beta1, beta2, epsilon));

    /// <summary>AdamW: Adam with decoupled weight decay, w ← w − ηₜ(m̂/(√v̂ + ε) + λw).</summary>
    /// <param name="learningRate">α, or a schedule; 0.001 when omitted.</param>
    /// <param name="weightDecay">λ ≥ 0.</param>
    public static Optimizer AdamW(Schedule? learningRate = null, double weightDecay = 0.01) =>
        Make(learningRate ?? 0.001, r => Core.Optimizer.adamW<double>(r.CoreSchedule, weightDecay), r => Core.Optimizer.adamW<float>(r.CoreSchedule, weightDecay));

    /// <summary>
    /// Steepest descent with a backtracking line search: from <paramref name="initialRate"/>,
    /// η is multiplied by <paramref name="shrink"/> until C(w − η∇C) ≤ C(w) − c·η‖∇C‖² (Armijo).
    /// </summary>
    /// <param name="initialRate">The first η tried, positive.</param>
    /// <param name="shrink">In (0, 1).</param>
    /// <param name="c">The Armijo constant in (0, 1).</param>
    /// <param name="maxTries">At least 1.</param>
    public static Optimizer SteepestDescent(double initialRate = 1.0, double shrink = 0.5, double c = 1e-4, int maxTries = 30)
    {
        var search = Core.LineSearch.NewBacktracking(initialRate, shrink, c, maxTries);
        return Make(initialRate, _ => Core.Optimizer.steepestDescent<double>(search), _ => Core.Optimizer.steepestDescent<float>(search));
    }

    /// <summary>Steepest descent with a golden-section search for η in [0, <paramref name="largestRate"/>].</summary>
    /// <param name="largestRate">The right end of the bracket, positive.</param>
    /// <param name="tolerance">The final bracket as a fraction of the largest rate, in (0, 1).</param>
    public static Optimizer SteepestDescentGoldenSection(double largestRate = 1.0, double tolerance = 1e-4)
    {
        var search = Core.LineSearch.NewGoldenSection(largestRate, tolerance);
        return Make(largestRate, _ => Core.Optimizer.steepestDescent<double>(search), _ => Core.Optimizer.steepestDescent<float>(search));
    }

    /// <summary>The same optimizer with gradients first clipped to a global norm of at most <paramref name="maxNorm"/>.</summary>
    /// <param name="maxNorm">Positive.</param>
    public Optimizer WithGradientClipping(double maxNorm)
    {
        if (!(maxNorm > 0) || !double.IsFinite(maxNorm))
        {
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, $"The clipping norm must be positive and finite, got {maxNorm}.");
        }

        return new Optimizer(LearningRate, makeDouble, makeSingle, maxNorm);
    }

    /// <summary>The core optimizer for real type <typeparamref name="T"/>, with the rate replaced when a schedule is given.</summary>
    internal Core.Optimizer<T> ToCore<T>(Schedule? schedule)
        where T : IFloatingPointIeee754<T>
    {
        var rate = schedule ?? LearningRate;
        object core = typeof(T) == typeof(float) ? makeSingle(rate) : makeDouble(rate);
        var optimizer = (Core.Optimizer<T>)core;
        return clipNorm is { } norm
            ? Core.Optimizer.after(CoreConvert.List(new[] { Core.Transform.clipByGlobalNorm<T>(norm) }), optimizer)
            : optimizer;
    }

    /// <summary>The optimizer's <see cref="Name"/>.</summary>
    public override string ToString() => Name;
}
