using System;
using System.Collections.Generic;
using System.Numerics;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>How a <see cref="Scaler"/> was fitted.</summary>
public enum ScalerKind
{
    /// <summary>Each feature's training range onto [0, 1]: x' = (x − min)/(max − min), like scikit-learn's MinMaxScaler.</summary>
    MinMax,

    /// <summary>Each feature's z-score: x' = (x − μ)/σ with the training mean and (population) standard deviation, like scikit-learn's StandardScaler.</summary>
    Standard,
}

/// <summary>
/// A per-feature map x'ᵢ = (xᵢ − offsetᵢ)/scaleᵢ fitted on training inputs and applied to any
/// inputs. Fit it on the training examples only, then either give it to the network
/// (<see cref="NeuralNetwork{T}.WithScaler"/>: every input the network is given from then on is
/// raw, and the scaler is saved with the model) or apply it yourself with <see cref="Transform{T}(Dataset{T})"/>.
/// Offsets and scales are float64 for either real type; a feature that is constant in the training
/// data gets scale 1. Immutable.
/// </summary>
public sealed class Scaler
{
    internal Scaler(Core.Scaler core)
    {
        CoreScaler = core;
    }

    /// <summary>How it was fitted.</summary>
    public ScalerKind Kind => CoreScaler.Kind.IsMinMax ? ScalerKind.MinMax : ScalerKind.Standard;

    /// <summary>The number of features (input values) it maps.</summary>
    public int Width => CoreScaler.Width;

    /// <summary>offsetᵢ: each feature's training minimum (min-max) or mean (standard).</summary>
    public IReadOnlyList<double> Offsets => CoreScaler.Offsets;

    /// <summary>scaleᵢ: each feature's training range (min-max) or standard deviation (standard), 1 where that is 0.</summary>
    public IReadOnlyList<double> Scales => CoreScaler.Scales;

    internal Core.Scaler CoreScaler { get; }

    /// <summary>Fits a min-max scaler to the inputs of the (training) examples.</summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="data">The training examples; their targets are not used.</param>
    /// <exception cref="ArgumentException">A feature's range exceeds float64's.</exception>
    public static Scaler FitMinMax<T>(Dataset<T> data)
        where T : IFloatingPointIeee754<T> => Fit(data, nameof(data), Core.ScalerModule.fitMinMax);

    /// <summary>Fits a min-max scaler to inputs given one array per example.</summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="inputs">The training inputs.</param>
    public static Scaler FitMinMax<T>(T[][] inputs)
        where T : IFloatingPointIeee754<T> => Fit(Entries.FromJagged(inputs, nameof(inputs)), nameof(inputs), Core.ScalerModule.fitMinMax);

    /// <summary>Fits a standard (z-score) scaler to the inputs of the (training) examples.</summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="data">The training examples; their targets are not used.</param>
    /// <exception cref="ArgumentException">A feature's sum exceeds float64's range.</exception>
    public static Scaler FitStandard<T>(Dataset<T> data)
        where T : IFloatingPointIeee754<T> => Fit(data, nameof(data), Core.ScalerModule.fitStandard);

    /// <summary>Fits a standard (z-score) scaler to inputs given one array per example.</summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="inputs">The training inputs.</param>
    public static Scaler FitStandard<T>(T[][] inputs)
        where T : IFloatingPointIeee754<T> => Fit(Entries.FromJagged(inputs, nameof(inputs)), nameof(inputs), Core.ScalerModule.fitStandard);

    /// <summary>The examples with their inputs scaled (targets unchanged).</summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="data">Examples with <see cref="Width"/> inputs each.</param>
    /// <exception cref="ArgumentException">The inputs have another width, or a scaled value exceeds <typeparamref name="T"/>'s range.</exception>
    public Dataset<T> Transform<T>(Dataset<T> data)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data);
        return Dataset<T>.FromCore(Apply(data.Inputs, Naming.DataInputs(nameof(data))), data.Targets, data.ClassCount, data.InputImage);
    }

    /// <summary>Scaled inputs, one array per example.</summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="inputs">Raw inputs of <see cref="Width"/> values each.</param>
    public T[][] Transform<T>(T[][] inputs)
        where T : IFloatingPointIeee754<T> =>
        Core.Matrix.toColumns(Apply(Entries.FromJagged(inputs, nameof(inputs)), Naming.Jagged(nameof(inputs))));

    /// <summary>One scaled input.</summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="input">A raw input of <see cref="Width"/> values.</param>
    public T[] Transform<T>(ReadOnlySpan<T> input)
        where T : IFloatingPointIeee754<T> =>
        Apply(Entries.FromSpan(input, nameof(input)), Naming.Single(nameof(input))).ToArray();

    /// <summary>"min-max scaler of 64 features".</summary>
    public override string ToString() => CoreScaler.ToString();

    /// <summary>x' for inputs given as core columns, checked in the caller's terms: the width, and every scaled value finite in <typeparamref name="T"/>.</summary>
    internal Core.Matrix<T> Apply<T>(Core.Matrix<T> raw, Naming naming)
        where T : IFloatingPointIeee754<T>
    {
        Entries.CheckWidth(raw, Width, naming, $"The {this} takes inputs of {Core.Wording.count(Width, "value")}");
        var scaled = Core.ScalerModule.apply(CoreScaler, raw);
        if (Core.Matrix.tryFindNonFinite(scaled) is { } bad)
        {
            var (i, j, v) = bad.Value;
            throw new ArgumentException($"{naming.Value(i, j)} is {raw[i, j]}, which the {this} maps to {v}: beyond the range of {typeof(T).Name}.", naming.Parameter);
        }

        return scaled;
    }

    private static Scaler Fit<T>(Dataset<T> data, string name, Func<Core.Matrix<T>, Core.Scaler> fit)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data, name);
        return Fit(data.Inputs, name, fit);
    }

    private static Scaler Fit<T>(Core.Matrix<T> inputs, string name, Func<Core.Matrix<T>, Core.Scaler> fit)
        where T : IFloatingPointIeee754<T> =>
        new(CallerTerms.Call(() => fit(inputs), _ => name));
}
