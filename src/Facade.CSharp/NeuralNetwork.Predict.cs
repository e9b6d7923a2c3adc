using System;
using System.Numerics;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

// Outputs and classes, for every shape of input: one, a batch of arrays, the rows of a two-dimensional array, a data set.
public sealed partial class NeuralNetwork<T>
{
    /// <summary>The output for one input (in the targets' units, when the network has a <see cref="TargetScaler"/>).</summary>
    /// <param name="input"><see cref="InputWidth"/> finite values (raw, when the network has a scaler).</param>
    /// <exception cref="ArgumentException">The input has the wrong length or holds NaN or ∞; the message names the entry, as in <c>input[5]</c>.</exception>
    /// <exception cref="OverflowException">An output is not finite: a weighted input exceeded the range of <typeparamref name="T"/>.</exception>
    public T[] Predict(ReadOnlySpan<T> input) => Outputs(Entries.FromSpan(input, nameof(input)), Naming.Single(nameof(input))).ToArray();

    /// <summary>The output for one input.</summary>
    /// <param name="input"><see cref="InputWidth"/> finite values.</param>
    public T[] Predict(T[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Predict(input.AsSpan());
    }

    /// <summary>The outputs for a batch of inputs, one array per example.</summary>
    /// <param name="inputs">One array per example; a bad value is named as <c>inputs[3][5]</c>.</param>
    /// <exception cref="OverflowException">An output is not finite: a weighted input exceeded the range of <typeparamref name="T"/>.</exception>
    public T[][] Predict(T[][] inputs) => Core.Matrix.toColumns(Outputs(Entries.FromJagged(inputs, nameof(inputs)), Naming.Jagged(nameof(inputs))));

    /// <summary>The outputs for a batch of inputs given as [example, feature]; the result is [example, output].</summary>
    /// <param name="inputs">One row per example; a bad value is named as <c>inputs[3, 5]</c>.</param>
    public T[,] Predict(T[,] inputs) =>
        Core.Matrix.toRows2D(Outputs(Entries.FromRows(inputs, nameof(inputs)), Naming.Rows(nameof(inputs))));

    /// <summary>The outputs for the inputs of a data set, one array per example.</summary>
    /// <param name="data">The examples (their targets are not used).</param>
    public T[][] Predict(Dataset<T> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckImages(data, nameof(data));
        return Core.Matrix.toColumns(Outputs(data.Inputs, Naming.DataInputs(nameof(data))));
    }

    /// <summary>The predicted class: the index of the largest output, or for one output 1 when it is at least ½.</summary>
    /// <param name="input"><see cref="InputWidth"/> finite values.</param>
    public int Classify(ReadOnlySpan<T> input) => Classes(Entries.FromSpan(input, nameof(input)), Naming.Single(nameof(input)))[0];

    /// <summary>The predicted class of one input.</summary>
    /// <param name="input"><see cref="InputWidth"/> finite values.</param>
    public int Classify(T[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Classify(input.AsSpan());
    }

    /// <summary>The predicted class of each input.</summary>
    /// <param name="inputs">One array per example.</param>
    public int[] Classify(T[][] inputs) => Classes(Entries.FromJagged(inputs, nameof(inputs)), Naming.Jagged(nameof(inputs)));

    /// <summary>The predicted class of each row.</summary>
    /// <param name="inputs">One row per example.</param>
    public int[] Classify(T[,] inputs) => Classes(Entries.FromRows(inputs, nameof(inputs)), Naming.Rows(nameof(inputs)));

    /// <summary>The predicted class of each example of a data set.</summary>
    /// <param name="data">The examples (their targets are not used).</param>
    public int[] Classify(Dataset<T> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckImages(data, nameof(data));
        return Classes(data.Inputs, Naming.DataInputs(nameof(data)));
    }

    /// <summary>The forward pass of checked raw inputs, its outputs in the targets' units (through the target scaler's inverse, if any) and checked finite.</summary>
    private Core.Matrix<T> Outputs(Core.Matrix<T> raw, Naming naming) =>
        Entries.FiniteOutputs(Unscaled(Core.Forward.run(CoreNetwork, Prepare(raw, naming))), naming);

    private int[] Classes(Core.Matrix<T> raw, Naming naming) => Core.Evaluation.classes(Outputs(raw, naming));
}
