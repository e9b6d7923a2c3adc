using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>
/// Examples for training or evaluation: each an input vector with a target vector. Immutable;
/// the arrays given are copied, and checked for consistent widths and finite values.
/// </summary>
/// <typeparam name="T">double or float.</typeparam>
public sealed class Dataset<T>
    where T : IFloatingPointIeee754<T>
{
    private Dataset(Core.Matrix<T> inputs, Core.Matrix<T> targets)
    {
        Inputs = inputs;
        Targets = targets;
    }

    /// <summary>Wraps core matrices (one column per example) that the caller gives up.</summary>
    internal static Dataset<T> FromCore(Core.Matrix<T> inputs, Core.Matrix<T> targets) => new(inputs, targets);

    /// <summary>The number of examples.</summary>
    public int Count => Inputs.Cols;

    /// <summary>The length of each input.</summary>
    public int InputWidth => Inputs.Rows;

    /// <summary>The length of each target.</summary>
    public int TargetWidth => Targets.Rows;

    /// <summary>The inputs, one column per example.</summary>
    internal Core.Matrix<T> Inputs { get; }

    /// <summary>The targets, one column per example.</summary>
    internal Core.Matrix<T> Targets { get; }

    /// <summary>Examples from inputs and the targets at the same indices.</summary>
    /// <param name="inputs">One array per example, all of the same length.</param>
    /// <param name="targets">One array per example, all of the same length.</param>
    /// <exception cref="ArgumentException">The arrays are empty, ragged, of different counts, or hold NaN or ∞.</exception>
    public static Dataset<T> FromArrays(T[][] inputs, T[][] targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (inputs.Length != targets.Length)
        {
            throw new ArgumentException($"There are {inputs.Length} inputs but {targets.Length} targets; each input needs one target.", nameof(targets));
        }

        return new Dataset<T>(Check(inputs, nameof(inputs)), Check(targets, nameof(targets)));
    }

    /// <summary>
    /// Examples from inputs and integer class labels, one-hot encoded: label k becomes a target of
    /// <paramref name="classCount"/> entries with 1 at k. With one class count of 2 and
    /// <paramref name="singleOutput"/> set, label k becomes the single target k (0 or 1), for one sigmoid output.
    /// </summary>
    /// <param name="inputs">One array per example, all of the same length.</param>
    /// <param name="labels">One label per example, in 0 … classCount − 1.</param>
    /// <param name="classCount">The number of classes, at least 2.</param>
    /// <param name="singleOutput">Encode two classes as one 0/1 target instead of two one-hot entries.</param>
    /// <exception cref="ArgumentException">A label is outside 0 … classCount − 1, or the counts differ.</exception>
    public static Dataset<T> FromLabels(T[][] inputs, int[] labels, int classCount, bool singleOutput = false)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        if (classCount < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(classCount), classCount, $"Classification needs at least 2 classes, got {classCount}.");
        }

        if (singleOutput && classCount != 2)
        {
            throw new ArgumentException($"A single 0/1 output can encode 2 classes, not {classCount}.", nameof(singleOutput));
        }

        if (inputs.Length != labels.Length)
        {
            throw new ArgumentException($"There are {inputs.Length} inputs but {labels.Length} labels; each input needs one label.", nameof(labels));
        }

        var width = singleOutput ? 1 : classCount;
        var targets = new T[labels.Length * width];
        for (var j = 0; j < labels.Length; j++)
        {
            var label = labels[j];
            if (label < 0 || label >= classCount)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), label, $"labels[{j}] is {label}, but the classes are 0 … {classCount - 1}.");
            }

            targets[(j * width) + (singleOutput ? 0 : label)] = singleOutput ? T.CreateTruncating(label) : T.One;
        }

        return new Dataset<T>(Check(inputs, nameof(inputs)), Core.Matrix.ofColumnMajor(width, labels.Length, targets));
    }

    /// <summary>Examples from (input, target) pairs.</summary>
    /// <param name="examples">The pairs, each array of a consistent length.</param>
    public static Dataset<T> FromPairs(IEnumerable<(T[] Input, T[] Target)> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var list = examples.ToList();
        return FromArrays(list.Select(e => e.Input).ToArray(), list.Select(e => e.Target).ToArray());
    }

    /// <summary>Examples from two-dimensional arrays whose rows are examples.</summary>
    /// <param name="inputs">[example, feature].</param>
    /// <param name="targets">[example, output].</param>
    public static Dataset<T> FromRows(T[,] inputs, T[,] targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        return FromArrays(RowsOf(inputs), RowsOf(targets));
    }

    /// <summary>The examples from <paramref name="start"/> on, at most <paramref name="count"/> of them.</summary>
    /// <param name="start">The first example, from 0.</param>
    /// <param name="count">How many, at least 0.</param>
    public Dataset<T> Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Examples {start} … {start + count - 1} are outside the {Count} examples.");
        }

        return new Dataset<T>(Core.Matrix.sliceColumns(start, count, Inputs), Core.Matrix.sliceColumns(start, count, Targets));
    }

    /// <summary>Input <paramref name="index"/>, copied.</summary>
    /// <param name="index">The example, from 0.</param>
    public T[] GetInput(int index) => Core.Matrix.column(index, Inputs);

    /// <summary>Target <paramref name="index"/>, copied.</summary>
    /// <param name="index">The example, from 0.</param>
    public T[] GetTarget(int index) => Core.Matrix.column(index, Targets);

    internal static T[][] RowsOf(T[,] values)
    {
        var rows = new T[values.GetLength(0)][];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = new T[values.GetLength(1)];
            for (var j = 0; j < rows[i].Length; j++)
            {
                rows[i][j] = values[i, j];
            }
        }

        return rows;
    }

    /// <summary>Checks shape and values and returns the examples as columns.</summary>
    internal static Core.Matrix<T> Check(T[][] rows, string name)
    {
        if (rows.Length == 0)
        {
            throw new ArgumentException($"{name} is empty: there must be at least one example.", name);
        }

        for (var j = 0; j < rows.Length; j++)
        {
            if (rows[j] is null)
            {
                throw new ArgumentException($"{name}[{j}] is null.", name);
            }

            if (rows[j].Length != rows[0].Length)
            {
                throw new ArgumentException($"{name}[{j}] has {rows[j].Length} values but {name}[0] has {rows[0].Length}; every example must have the same length.", name);
            }

            for (var i = 0; i < rows[j].Length; i++)
            {
                if (!T.IsFinite(rows[j][i]))
                {
                    throw new ArgumentException($"{name}[{j}][{i}] is {rows[j][i]}; every value must be finite.", name);
                }
            }
        }

        return CoreConvert.Columns(rows, rows[0].Length);
    }
}
