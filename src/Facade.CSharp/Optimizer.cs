using System;
using System.Numerics;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>
/// How training moves the parameters: <c>Optimizer.Adam()</c> (the default of
/// <see cref="FitOptions{T}"/>), <c>Optimizer.Sgd(0.1)</c>, <c>Optimizer.Momentum(0.5, 0.9)</c>, …
/// Immutable; hyper-parameters are checked when the optimizer is made (errors name the parameter),
/// and <see cref="WithGradientClipping"/> returns a new one.
/// </summary>
public sealed class Optimizer
{
    private readonly Func<Core.Schedule, Core.Optimizer<double>> makeDouble;
    private readonly Func<Core.Schedule, Core.Optimizer<float>> makeSingle;
    private readonly double? clipNorm;

    /// <summary>
    /// The float64 optimizer of the rate as given (its schedule in steps): made once, it checks the
    /// hyper-parameters, gives the name, and is the optimizer a float64 run uses when neither a
    /// schedule in epochs nor FitOptions.Schedule replaces the rate.
    /// </summary>
    private readonly Core.Optimizer<double> asGiven;

    private Optimizer(Schedule rate, Func<Core.Schedule, Core.Optimizer<double>> makeDouble, Func<Core.Schedule, Core.Optimizer<float>> makeSingle, double? clipNorm, string code)
    {
        LearningRate = rate;
        Code = code;
        this.makeDouble = makeDouble;
        this.makeSingle = makeSingle;
        this.clipNorm = clipNorm;
        asGiven = Clipped(makeDouble(rate.Representative));
        Name = rate.Unit == ScheduleUnit.Epochs ? asGiven.Name.Replace(Core.ScheduleModule.name(rate.Representative), rate.ToString(), StringComparison.Ordinal) : asGiven.Name;
    }

    /// <summary>The optimizer's learning rate (a <see cref="FitOptions{T}.Schedule"/> replaces it).</summary>
    public Schedule LearningRate { get; }

    /// <summary>"adam(constant(0.001), β₁ = 0.9, β₂ = 0.999, ε = 1E-08)", …</summary>
    public string Name { get; }

    /// <summary>How a C# caller writes it, for messages: "Optimizer.Sgd(100)", "Optimizer.Adam()", ….</summary>
    internal string Code { get; }

    /// <summary>Gradient descent, w ← w − ηₜ∇C (Nielsen's w ← w − (η/m)Σ∇Cₓ): the textbook's optimizer.</summary>
    /// <param name="learningRate">η, or a schedule; positive.</param>
    public static Optimizer Sgd(Schedule learningRate) =>
        Make(learningRate, nameof(learningRate), Core.Optimizer.sgd<double>, Core.Optimizer.sgd<float>, CSharpCode.Call("Optimizer.Sgd", learningRate?.Code));

    /// <summary>The lecture's momentum: P ← (1 − μ)P + μ∇C, w ← w − ηₜP.</summary>
    /// <param name="learningRate">η, or a schedule.</param>
    /// <param name="mu">The averaging rate μ in (0, 1].</param>
    public static Optimizer Momentum(Schedule learningRate, double mu) =>
        Make(learningRate, nameof(learningRate), r => Core.Optimizer.momentum<double>(r, mu), r => Core.Optimizer.momentum<float>(r, mu), CSharpCode.Call("Optimizer.Momentum", learningRate?.Code, CSharpCode.Number(mu)));

    /// <summary>Heavy-ball momentum: v ← βv + ∇C, w ← w − ηₜv.</summary>
    /// <param name="learningRate">η, or a schedule.</param>
    /// <param name="beta">β in [0, 1).</param>
    public static Optimizer HeavyBall(Schedule learningRate, double beta = 0.9) =>
        Make(learningRate, nameof(learningRate), r => Core.Optimizer.heavyBall<double>(r, beta), r => Core.Optimizer.heavyBall<float>(r, beta), CSharpCode.Call("Optimizer.HeavyBall", learningRate?.Code, CSharpCode.Named(nameof(beta), beta, 0.9)));

    /// <summary>Nesterov momentum: v ← βv + ∇C, w ← w − ηₜ(∇C + βv).</summary>
    /// <param name="learningRate">η, or a schedule.</param>
    /// <param name="beta">β in [0, 1).</param>
    public static Optimizer Nesterov(Schedule learningRate, double beta = 0.9) =>
        Make(learningRate, nameof(learningRate), r => Core.Optimizer.nesterov<double>(r, beta), r => Core.Optimizer.nesterov<float>(r, beta), CSharpCode.Call("Optimizer.Nesterov", learningRate?.Code, CSharpCode.Named(nameof(beta), beta, 0.9)));

    /// <summary>AdaGrad: Γ ← Γ + g², w ← w − ηₜ g/(√Γ + 10⁻⁸).</summary>
    /// <param name="learningRate">η, or a schedule.</param>
    public static Optimizer AdaGrad(Schedule learningRate) =>
        Make(learningRate, nameof(learningRate), Core.Optimizer.adaGrad<double>, Core.Optimizer.adaGrad<float>, CSharpCode.Call("Optimizer.AdaGrad", learningRate?.Code));

    /// <summary>RMSProp: Γ ← αΓ + (1 − α)g², w ← w − ηₜ g/(√Γ + 10⁻⁸).</summary>
    /// <param name="learningRate">η, or a schedule.</param>
    /// <param name="alpha">α in [0, 1).</param>
    public static Optimizer RmsProp(Schedule learningRate, double alpha = 0.9) =>
        Make(learningRate, nameof(learningRate), r => Core.Optimizer.rmsProp<double>(r, alpha), r => Core.Optimizer.rmsProp<float>(r, alpha), CSharpCode.Call("Optimizer.RmsProp", learningRate?.Code, CSharpCode.Named(nameof(alpha), alpha, 0.9)));

    /// <summary>
    /// Adam (Kingma and Ba) with bias-corrected moments. <c>Optimizer.Adam()</c>, α = 0.001 with the
    /// paper's β₁, β₂ and ε, is what <see cref="FitOptions{T}"/> uses when no optimizer is given.
    /// </summary>
    /// <param name="learningRate">α, or a schedule; 0.001 when omitted.</param>
    /// <param name="beta1">β₁ in [0, 1).</param>
    /// <param name="beta2">β₂ in [0, 1).</param>
    /// <param name="epsilon">ε &gt; 0.</param>
    public static Optimizer Adam(Schedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8) =>
        Make(
            learningRate ?? 0.001,
            nameof(learningRate),
            r => Core.Optimizer.adamWith<double>(r, beta1, beta2, epsilon),
            r => Core.Optimizer.adamWith<float>(r, beta1, beta2, epsilon),
            CSharpCode.Call("Optimizer.Adam", learningRate?.Code, CSharpCode.Named(nameof(beta1), beta1, 0.9), CSharpCode.Named(nameof(beta2), beta2, 0.999), CSharpCode.Named(nameof(epsilon), epsilon, 1e-8)));

    /// <summary>AdamW: Adam with decoupled weight decay, w ← w − ηₜ(m̂/(√v̂ + ε) + λw).</summary>
    /// <param name="learningRate">α, or a schedule; 0.001 when omitted.</param>
    /// <param name="weightDecay">λ ≥ 0.</param>
    public static Optimizer AdamW(Schedule? learningRate = null, double weightDecay = 0.01) =>
        Make(
            learningRate ?? 0.001,
            nameof(learningRate),
            r => Core.Optimizer.adamW<double>(r, weightDecay),
            r => Core.Optimizer.adamW<float>(r, weightDecay),
            CSharpCode.Call("Optimizer.AdamW", learningRate?.Code, CSharpCode.Named(nameof(weightDecay), weightDecay, 0.01)),
            ("lambda", nameof(weightDecay)));

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
        return Make(
            initialRate,
            nameof(initialRate),
            _ => Core.Optimizer.steepestDescent<double>(search),
            _ => Core.Optimizer.steepestDescent<float>(search),
            CSharpCode.Call(
                "Optimizer.SteepestDescent",
                CSharpCode.Named(nameof(initialRate), initialRate, 1.0),
                CSharpCode.Named(nameof(shrink), shrink, 0.5),
                CSharpCode.Named(nameof(c), c, 1e-4),
                CSharpCode.Named(nameof(maxTries), maxTries, 30)),
            ("initial rate", nameof(initialRate)),
            ("shrink factor", nameof(shrink)),
            ("Armijo constant", nameof(c)),
            ("number of tries", nameof(maxTries)));
    }

    /// <summary>Steepest descent with a golden-section search for η in [0, <paramref name="largestRate"/>].</summary>
    /// <param name="largestRate">The right end of the bracket, positive.</param>
    /// <param name="tolerance">The final bracket as a fraction of the largest rate, in (0, 1).</param>
    public static Optimizer SteepestDescentGoldenSection(double largestRate = 1.0, double tolerance = 1e-4)
    {
        var search = Core.LineSearch.NewGoldenSection(largestRate, tolerance);
        return Make(
            largestRate,
            nameof(largestRate),
            _ => Core.Optimizer.steepestDescent<double>(search),
            _ => Core.Optimizer.steepestDescent<float>(search),
            CSharpCode.Call("Optimizer.SteepestDescentGoldenSection", CSharpCode.Named(nameof(largestRate), largestRate, 1.0), CSharpCode.Named(nameof(tolerance), tolerance, 1e-4)),
            ("largest rate", nameof(largestRate)));
    }

    /// <summary>The same optimizer with gradients first clipped to a global norm of at most <paramref name="maxNorm"/>.</summary>
    /// <param name="maxNorm">Positive and finite.</param>
    public Optimizer WithGradientClipping(double maxNorm)
    {
        CallerTerms.Call(() => Core.Transform.clipByGlobalNorm<double>(maxNorm), nameof(maxNorm));
        return new Optimizer(LearningRate, makeDouble, makeSingle, maxNorm, $"{Code}.WithGradientClipping({CSharpCode.Number(maxNorm)})");
    }

    /// <summary>The optimizer's <see cref="Name"/>.</summary>
    public override string ToString() => Name;

    /// <summary>
    /// The core optimizer for real type <typeparamref name="T"/>, with the rate replaced when a
    /// schedule is given, and schedules counted in epochs converted for the run.
    /// </summary>
    internal Core.Optimizer<T> ToCore<T>(Schedule? schedule, int stepsPerEpoch, int epochs)
        where T : IFloatingPointIeee754<T>
    {
        if (schedule is null && LearningRate.Unit == ScheduleUnit.Steps && asGiven is Core.Optimizer<T> same)
        {
            return same;
        }

        var rate = (schedule ?? LearningRate).ToCore(schedule is null ? "learningRate" : "Schedule", stepsPerEpoch, epochs);
        object core = typeof(T) == typeof(float) ? makeSingle(rate) : makeDouble(rate);
        return Clipped((Core.Optimizer<T>)core);
    }

    /// <summary>The optimizer with gradient clipping in front, when this one clips.</summary>
    private Core.Optimizer<T> Clipped<T>(Core.Optimizer<T> optimizer)
        where T : IFloatingPointIeee754<T> =>
        clipNorm is { } norm
            ? Core.Optimizer.after(CoreConvert.List(new[] { Core.Transform.clipByGlobalNorm<T>(norm) }), optimizer)
            : optimizer;

    /// <summary>
    /// An optimizer whose hyper-parameters are checked now, where they were given: the rate under
    /// <paramref name="rateName"/>, the others under their names in the factory (the core's names
    /// mapped through <paramref name="names"/> where they differ).
    /// </summary>
    private static Optimizer Make(Schedule rate, string rateName, Func<Core.Schedule, Core.Optimizer<double>> d, Func<Core.Schedule, Core.Optimizer<float>> s, string code, params (string Core, string Caller)[] names)
    {
        ArgumentNullException.ThrowIfNull(rate, rateName);
        rate.Validate(rateName);
        string Rename(string? core) => Array.Find(names, n => n.Core == core).Caller ?? core ?? rateName;
        return CallerTerms.Call(() => new Optimizer(rate, d, s, null, code), Rename);
    }
}
