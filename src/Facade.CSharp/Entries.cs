using System;
using System.Linq;
using System.Numerics;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>
/// How a caller names what they passed, for messages: the parameter, one of its values (feature
/// or output i of example j) and one of its examples. The core says "row i of example (column) j";
/// a C# caller wrote <c>inputs[j][i]</c>, <c>inputs[j, i]</c>, <c>input[i]</c> or <c>data.GetInput(j)[i]</c>.
/// </summary>
/// <param name="Parameter">The parameter's name.</param>
/// <param name="Value">Value i of example j, as the caller indexes it.</param>
/// <param name="Example">Example j, as the caller indexes it.</param>
internal sealed record Naming(string Parameter, Func<int, int, string> Value, Func<int, string> Example)
{
    /// <summary>One array per example: <c>inputs[j][i]</c>.</summary>
    public static Naming Jagged(string name) => new(name, (i, j) => $"{name}[{j}][{i}]", j => $"{name}[{j}]");

    /// <summary>A two-dimensional array, one row per example: <c>inputs[j, i]</c>.</summary>
    public static Naming Rows(string name) => new(name, (i, j) => $"{name}[{j}, {i}]", j => $"row {j} of {name}");

    /// <summary>One example: <c>input[i]</c>.</summary>
    public static Naming Single(string name) => new(name, (i, _) => $"{name}[{i}]", _ => name);

    /// <summary>The inputs of a data set: <c>data.GetInput(j)[i]</c>.</summary>
    public static Naming DataInputs(string name) => new(name, (i, j) => $"{name}.GetInput({j})[{i}]", j => $"{name}.GetInput({j})");

    /// <summary>The targets of a data set: <c>data.GetTarget(j)[i]</c>.</summary>
    public static Naming DataTargets(string name) => new(name, (i, j) => $"{name}.GetTarget({j})[{i}]", j => $"{name}.GetTarget({j})");
}

/// <summary>.NET shapes of examples turned into the core's matrices (one column per example), checked and named in the caller's terms.</summary>
internal static class Entries
{
    /// <summary>Examples given one array each: not null, not empty, not ragged, every value finite.</summary>
    public static Core.Matrix<T> FromJagged<T>(T[][] rows, string name)
        where T : IFloatingPointIeee754<T> => FromJagged(rows, Naming.Jagged(name));

    /// <summary>Examples given one array each, named as <paramref name="naming"/> says.</summary>
    public static Core.Matrix<T> FromJagged<T>(T[][] rows, Naming naming)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(rows, naming.Parameter);
        if (rows.Length == 0)
        {
            throw new ArgumentException($"{naming.Parameter} is empty: there must be at least one example.", naming.Parameter);
        }

        for (var j = 0; j < rows.Length; j++)
        {
            if (rows[j] is null)
            {
                throw new ArgumentException($"{naming.Example(j)} is null.", naming.Parameter);
            }

            if (rows[j].Length == 0)
            {
                throw new ArgumentException($"{naming.Example(j)} is empty: an example has at least one value.", naming.Parameter);
            }

            if (rows[j].Length != rows[0].Length)
            {
                throw new ArgumentException($"{naming.Example(j)} has {rows[j].Length} values but {naming.Example(0)} has {rows[0].Length}; every example must have the same length.", naming.Parameter);
            }
        }

        return Finite(Core.Matrix.ofColumns(rows), naming);
    }

    /// <summary>Images given as [channel, row, column] arrays, all of one shape: their values in C-H-W order, one column per image, every value finite (named as <c>images[3][0, 5, 7]</c>).</summary>
    public static (Core.Matrix<T> Inputs, ImageShape Shape) FromImages<T>(System.Collections.Generic.IReadOnlyList<T[,,]> images, string name)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(images, name);
        if (images.Count == 0)
        {
            throw new ArgumentException($"{name} is empty: there must be at least one image.", name);
        }

        static ImageShape ShapeOf(T[,,] image) => new(image.GetLength(0), image.GetLength(1), image.GetLength(2));
        var shape = ShapeOf(images[0] ?? throw new ArgumentException($"{name}[0] is null.", name));
        if (shape.Channels == 0 || shape.Height == 0 || shape.Width == 0 || shape.Size > 1 << 30)
        {
            throw new ArgumentException($"{name}[0] is {shape}: an image has at least one channel, row and column, and at most 2³⁰ values.", name);
        }

        var size = (int)shape.Size;
        var values = new T[checked(size * images.Count)];
        for (var j = 0; j < images.Count; j++)
        {
            var image = images[j] ?? throw new ArgumentException($"{name}[{j}] is null.", name);
            if (ShapeOf(image) != shape)
            {
                throw new ArgumentException($"{name}[{j}] is {ShapeOf(image)} but {name}[0] is {shape} (channels × height × width); every image must have the same shape.", name);
            }

            var k = j * size;
            foreach (var v in image)
            {
                if (!T.IsFinite(v))
                {
                    var (c, y, x) = ((k - j * size) / (shape.Height * shape.Width), (k - j * size) / shape.Width % shape.Height, (k - j * size) % shape.Width);
                    throw new ArgumentException($"{name}[{j}][{c}, {y}, {x}] is {v}; every value must be finite.", name);
                }

                values[k++] = v;
            }
        }

        return (Core.Matrix.wrap(size, images.Count, values), shape);
    }

    /// <summary>Examples given as the rows of a two-dimensional array, every value finite.</summary>
    public static Core.Matrix<T> FromRows<T>(T[,] rows, string name)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(rows, name);
        if (rows.GetLength(0) == 0 || rows.GetLength(1) == 0)
        {
            throw new ArgumentException($"{name} is {rows.GetLength(0)} × {rows.GetLength(1)}: there must be at least one example of at least one value.", name);
        }

        return Finite(Core.Matrix.ofRows2D(rows), Naming.Rows(name));
    }

    /// <summary>One example, every value finite.</summary>
    public static Core.Matrix<T> FromSpan<T>(ReadOnlySpan<T> values, string name)
        where T : IFloatingPointIeee754<T> =>
        Finite(Core.Matrix.ofColumnMajor(values.Length, 1, values.ToArray()), Naming.Single(name));

    /// <summary>Throws ArgumentException naming the first value that is NaN or infinite.</summary>
    public static Core.Matrix<T> Finite<T>(Core.Matrix<T> m, Naming naming)
        where T : IFloatingPointIeee754<T>
    {
        if (Core.Matrix.tryFindNonFinite(m) is { } bad)
        {
            var (i, j, v) = bad.Value;
            throw new ArgumentException($"{naming.Value(i, j)} is {v}; every value must be finite.", naming.Parameter);
        }

        return m;
    }

    /// <summary>Throws ArgumentException unless each example has <paramref name="width"/> values.</summary>
    public static void CheckWidth<T>(Core.Matrix<T> m, int width, Naming naming, string what)
        where T : IFloatingPointIeee754<T>
    {
        if (m.Rows != width)
        {
            throw new ArgumentException($"{what}, but {naming.Example(0)} has {m.Rows}.", naming.Parameter);
        }
    }

    /// <summary>Throws <see cref="OverflowException"/> naming the first output of an example that is not finite.</summary>
    public static Core.Matrix<T> FiniteOutputs<T>(Core.Matrix<T> outputs, Naming inputs)
        where T : IFloatingPointIeee754<T>
    {
        if (Core.Matrix.tryFindNonFinite(outputs) is { } bad)
        {
            var (i, j, v) = bad.Value;
            throw new OverflowException($"Output {i} of {inputs.Example(j)} is {v}: a weighted input exceeded the range of {typeof(T).Name}. Scale the inputs down (a Scaler fitted on the training data does it).");
        }

        return outputs;
    }

    /// <summary>The values of a matrix that are not finite as a message part, or null; for gradients named as their result's arrays.</summary>
    public static string? FirstNonFinite<T>(Core.Matrix<T> m, Func<int, int, string> name)
        where T : IFloatingPointIeee754<T> =>
        Core.Matrix.tryFindNonFinite(m) is { } bad ? $"{name(bad.Value.Item1, bad.Value.Item2)} is {bad.Value.Item3}" : null;

    /// <summary>The labels as an array for the core (copied when they are not one).</summary>
    public static int[] Labels(System.Collections.Generic.IReadOnlyList<int> labels, string name)
    {
        ArgumentNullException.ThrowIfNull(labels, name);
        return labels as int[] ?? labels.ToArray();
    }
}

/// <summary>A data set with the names its caller gave its inputs and targets.</summary>
/// <typeparam name="T">double or float.</typeparam>
/// <param name="Data">The examples.</param>
/// <param name="Inputs">How the caller names an input value.</param>
/// <param name="Targets">How the caller names a target value.</param>
internal sealed record Examples<T>(Dataset<T> Data, Naming Inputs, Naming Targets)
    where T : IFloatingPointIeee754<T>
{
    /// <summary>A data set passed as the parameter <paramref name="name"/>.</summary>
    public static Examples<T> Of(Dataset<T>? data, string name)
    {
        ArgumentNullException.ThrowIfNull(data, name);
        return data.Count > 0
            ? new(data, Naming.DataInputs(name), Naming.DataTargets(name))
            : throw new ArgumentException($"{name} holds no examples: there must be at least one to train on or measure.", name);
    }

    /// <summary>The same examples with class labels encoded for an output layer of <paramref name="outputWidth"/> units (see <see cref="Dataset{T}.ForOutputs"/>).</summary>
    public Examples<T> ForOutputs(int outputWidth) => this with { Data = Data.ForOutputs(outputWidth) };

    /// <summary>Inputs and targets passed as the parameters <c>inputs</c> and <c>targets</c>.</summary>
    public static Examples<T> Of(T[][] inputs, T[][] targets) =>
        new(Dataset<T>.FromArrays(inputs, targets), Naming.Jagged(nameof(inputs)), Naming.Jagged(nameof(targets)));

    /// <summary>Inputs and class labels passed as <c>inputs</c> and <c>labels</c>, encoded for an output layer of <paramref name="outputWidth"/> units (0/1 for one).</summary>
    public static Examples<T> Labelled(T[][] inputs, System.Collections.Generic.IReadOnlyList<int> labels, int outputWidth)
    {
        var x = Entries.FromJagged(inputs, nameof(inputs));
        var values = Entries.Labels(labels, nameof(labels));
        if (values.Length != x.Cols)
        {
            throw new ArgumentException($"There are {x.Cols} inputs but {values.Length} labels; each input needs one label.", nameof(labels));
        }

        var y = CallerTerms.Call(() => Core.ClassLabels.forOutput<T>(outputWidth, values), _ => nameof(labels));
        return new(Dataset<T>.FromCore(x, y), Naming.Jagged(nameof(inputs)), new Naming(nameof(labels), (_, j) => $"labels[{j}]", j => $"labels[{j}]"));
    }
}
