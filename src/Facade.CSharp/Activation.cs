using System;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>The kinds of activation function σ a layer can apply to its weighted input z.</summary>
public enum ActivationKind
{
    /// <summary>σ(z) = z, for regression outputs.</summary>
    Identity,

    /// <summary>σ(z) = 1 if z &gt; 0 else 0; no gradient passes through it, so it is for inference only.</summary>
    Step,

    /// <summary>σ(z) = 1/(1 + e⁻ᶻ).</summary>
    Sigmoid,

    /// <summary>σ(z) = tanh z.</summary>
    Tanh,

    /// <summary>σ(z) = max(0, z).</summary>
    ReLU,

    /// <summary>σ(z) = z if z &gt; 0 else slope·z.</summary>
    LeakyReLU,

    /// <summary>σ(z)ⱼ = e^zⱼ / Σₖ e^zₖ over a layer's outputs, for class probabilities.</summary>
    Softmax,
}

/// <summary>
/// An activation function for a dense layer: <c>Activation.Sigmoid</c>, <c>Activation.ReLU</c>,
/// <c>Activation.LeakyReLU(0.01)</c>, … Immutable; equal when kind and slope are equal.
/// </summary>
public sealed record Activation
{
    private Activation(ActivationKind kind, double slope)
    {
        Kind = kind;
        Slope = slope;
    }

    /// <summary>Which function this is.</summary>
    public ActivationKind Kind { get; }

    /// <summary>The leaky ReLU's slope for negative z; 0 for every other kind.</summary>
    public double Slope { get; }

    /// <summary>σ(z) = z.</summary>
    public static Activation Identity { get; } = new(ActivationKind.Identity, 0);

    /// <summary>The perceptron's threshold; its derivative is 0, so networks using it cannot be trained.</summary>
    public static Activation Step { get; } = new(ActivationKind.Step, 0);

    /// <summary>The logistic sigmoid.</summary>
    public static Activation Sigmoid { get; } = new(ActivationKind.Sigmoid, 0);

    /// <summary>The hyperbolic tangent.</summary>
    public static Activation Tanh { get; } = new(ActivationKind.Tanh, 0);

    /// <summary>The rectified linear unit, max(0, z).</summary>
    public static Activation ReLU { get; } = new(ActivationKind.ReLU, 0);

    /// <summary>Softmax over the layer's outputs, usually with the cross-entropy loss.</summary>
    public static Activation Softmax { get; } = new(ActivationKind.Softmax, 0);

    /// <summary>The leaky ReLU with the given slope for negative z.</summary>
    /// <param name="slope">Strictly between 0 and 1; checked when the network is built.</param>
    public static Activation LeakyReLU(double slope = 0.01) => new(ActivationKind.LeakyReLU, slope);

    /// <summary>"sigmoid", "leaky-relu(0.01)", …</summary>
    public override string ToString() => Core.ActivationModule.name(ToCore());

    internal Core.Activation ToCore() => Kind switch
    {
        ActivationKind.Identity => Core.Activation.Identity,
        ActivationKind.Step => Core.Activation.Step,
        ActivationKind.Sigmoid => Core.Activation.Sigmoid,
        ActivationKind.Tanh => Core.Activation.Tanh,
        ActivationKind.ReLU => Core.Activation.ReLU,
        ActivationKind.LeakyReLU => Core.Activation.NewLeakyReLU(Slope),
        _ => Core.Activation.Softmax,
    };

    internal static Activation FromCore(Core.Activation activation) => activation switch
    {
        { IsIdentity: true } => Identity,
        { IsStep: true } => Step,
        { IsSigmoid: true } => Sigmoid,
        { IsTanh: true } => Tanh,
        { IsReLU: true } => ReLU,
        Core.Activation.LeakyReLU leaky => LeakyReLU(leaky.slope),
        _ => Softmax,
    };
}
