using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>
/// Examples for training or evaluation: each an input vector with a target vector. Immutable: the
/// arrays given are copied and checked (consistent widths, finite values), and every method that
/// selects or transforms examples returns a new data set. Targets made from class labels
/// (<see cref="FromLabels"/>, <see cref="CsvData.LoadClassification{T}"/>, <see cref="Mnist.Load{T}"/>)
/// remember their <see cref="ClassCount"/>, so they follow the network's output layer: two classes
/// train one sigmoid unit (a 0/1 target) or two softmax units (one-hot) alike.
/// </summary>
/// <typeparam name="T">double or float.</typeparam>
public sealed class Dataset<T>
    where T : IFloatingPointIeee754<T>
{
    private Dataset(Core.Matrix<T> inputs, Core.Matrix<T> targets, int? classCount = null, ImageShape? image = null)
    {
        if (inputs.Cols != targets.Cols)
        {
            throw new ArgumentException($"There are {inputs.Cols} inputs but {targets.Cols} targets; each input needs one target.", "targets");
        }

        Inputs = inputs;
        Targets = targets;
        ClassCount = classCount;
        InputImage = image is { } shape && shape.Size == inputs.Rows ? shape : null;
    }

    /// <summary>The shape of each input when the examples are images (<see cref="FromImages(IReadOnlyList{T[,,]}, T[][])"/>, <see cref="Mnist.Load{T}(string)"/>); null otherwise.</summary>
    public ImageShape? InputImage { get; }

    /// <summary>The number of examples.</summary>
    public int Count => Inputs.Cols;

    /// <summary>The length of each input.</summary>
    public int InputWidth => Inputs.Rows;

    /// <summary>The length of each target.</summary>
    public int TargetWidth => Targets.Rows;

    /// <summary>
    /// The number of classes when the targets encode class labels (one-hot, or one 0/1 target for
    /// two classes), as <see cref="FromLabels"/>, <see cref="CsvData.LoadClassification{T}"/> and
    /// <see cref="Mnist.Load{T}"/> make them; null for other targets. Fit and Evaluate then encode
    /// the labels for the network's output layer: one 0/1 target for one sigmoid unit, one-hot for
    /// as many units as classes.
    /// </summary>
    public int? ClassCount { get; }

    /// <summary>The inputs, one column per example.</summary>
    internal Core.Matrix<T> Inputs { get; }

    /// <summary>The targets, one column per example.</summary>
    internal Core.Matrix<T> Targets { get; }

    /// <summary>Examples from inputs and the targets at the same indices.</summary>
    /// <param name="inputs">One array per example, all of the same length.</param>
    /// <param name="targets">One array per example, all of the same length.</param>
    /// <exception cref="ArgumentException">The arrays are empty, ragged, of different counts, or hold NaN or ∞; the message names the entry, as in <c>inputs[3][5]</c>.</exception>
    public static Dataset<T> FromArrays(T[][] inputs, T[][] targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        return new Dataset<T>(Entries.FromJagged(inputs, nameof(inputs)), Entries.FromJagged(targets, nameof(targets)));
    }

    /// <summary>
    /// Examples from inputs and integer class labels, one-hot encoded: label k becomes a target of
    /// <paramref name="classCount"/> entries with 1 at k. With a class count of 2 and
    /// <paramref name="singleOutput"/> set, label k becomes the single target k (0 or 1), for one
    /// sigmoid output. <see cref="GetLabels"/> gives the labels back.
    /// </summary>
    /// <param name="inputs">One array per example, all of the same length.</param>
    /// <param name="labels">One label per example, in 0 … classCount − 1.</param>
    /// <param name="classCount">The number of classes, at least 2.</param>
    /// <param name="singleOutput">Encode two classes as one 0/1 target instead of two one-hot entries.</param>
    /// <exception cref="ArgumentException">A label is outside 0 … classCount − 1 (the message names it, as in <c>labels[7]</c>), or the counts differ.</exception>
    public static Dataset<T> FromLabels(T[][] inputs, IReadOnlyList<int> labels, int classCount, bool singleOutput = false)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var values = Entries.Labels(labels, nameof(labels));
        if (singleOutput && classCount != 2)
        {
            throw new ArgumentException($"A single 0/1 output can encode 2 classes, not {classCount}.", nameof(singleOutput));
        }

        if (inputs.Length != values.Length)
        {
            throw new ArgumentException($"There are {inputs.Length} inputs but {values.Length} labels; each input needs one label.", nameof(labels));
        }

        var targets = CallerTerms.Call(
            () => singleOutput ? Core.ClassLabels.binary<T>(values) : Core.ClassLabels.oneHot<T>(classCount, values),
            core => core == "classes" ? nameof(classCount) : nameof(labels));
        return new Dataset<T>(Entries.FromJagged(inputs, nameof(inputs)), targets, classCount);
    }

    /// <summary>
    /// Examples from images and the targets at the same indices: image j is
    /// <c>images[j][channel, row, column]</c>, stored as its values in C-H-W order (as PyTorch and
    /// ONNX store them), and the data set remembers the shape (<see cref="InputImage"/>), which
    /// a network on images checks.
    /// </summary>
    /// <param name="images">One array per example, [channels, height, width], all of one shape.</param>
    /// <param name="targets">One array per example, all of the same length.</param>
    /// <exception cref="ArgumentException">The images are empty, of different shapes (the message names the first that differs), of different counts than the targets, or hold NaN or ∞ (named as <c>images[3][0, 5, 7]</c>).</exception>
    public static Dataset<T> FromImages(IReadOnlyList<T[,,]> images, T[][] targets)
    {
        var (inputs, shape) = Entries.FromImages(images, nameof(images));
        return new Dataset<T>(inputs, Entries.FromJagged(targets, nameof(targets)), image: shape);
    }

    /// <summary>Examples from images and integer class labels, one-hot encoded as <see cref="FromLabels"/> encodes them.</summary>
    /// <param name="images">One array per example, [channels, height, width], all of one shape.</param>
    /// <param name="labels">One label per example, in 0 … classCount − 1.</param>
    /// <param name="classCount">The number of classes, at least 2.</param>
    /// <exception cref="ArgumentException">As for <see cref="FromImages(IReadOnlyList{T[,,]}, T[][])"/>, or a label is outside 0 … classCount − 1.</exception>
    public static Dataset<T> FromImages(IReadOnlyList<T[,,]> images, IReadOnlyList<int> labels, int classCount)
    {
        var (inputs, shape) = Entries.FromImages(images, nameof(images));
        var values = Entries.Labels(labels, nameof(labels));
        if (inputs.Cols != values.Length)
        {
            throw new ArgumentException($"There are {inputs.Cols} images but {values.Length} labels; each image needs one label.", nameof(labels));
        }

        var targets = CallerTerms.Call(() => Core.ClassLabels.oneHot<T>(classCount, values), core => core == "classes" ? nameof(classCount) : nameof(labels));
        return new Dataset<T>(inputs, targets, classCount, shape);
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
    public static Dataset<T> FromRows(T[,] inputs, T[,] targets) =>
        new(Entries.FromRows(inputs, nameof(inputs)), Entries.FromRows(targets, nameof(targets)));

    /// <summary>Wraps core matrices (one column per example) that the caller gives up; the targets encode labels of <paramref name="classCount"/> classes when it is given, and the inputs are images of <paramref name="image"/> when it is given.</summary>
    internal static Dataset<T> FromCore(Core.Matrix<T> inputs, Core.Matrix<T> targets, int? classCount = null, ImageShape? image = null) => new(inputs, targets, classCount, image);

    /// <summary>
    /// The same examples with their class labels encoded for an output layer of
    /// <paramref name="outputWidth"/> units, when the targets encode labels and that width takes
    /// them another way: one 0/1 target for one unit and two classes, one-hot for as many units
    /// as classes. Itself otherwise (the width is then checked against the network's as given).
    /// </summary>
    internal Dataset<T> ForOutputs(int outputWidth) =>
        ClassCount is { } classes && outputWidth != TargetWidth && (outputWidth == classes || (outputWidth == 1 && classes == 2))
            ? new(Inputs, Core.ClassLabels.forOutput<T>(outputWidth, GetLabels()), classes, InputImage)
            : this;

    /// <summary>Input <paramref name="index"/>, copied.</summary>
    /// <param name="index">The example, from 0.</param>
    public T[] GetInput(int index) => GetInputSpan(index).ToArray();

    /// <summary>Target <paramref name="index"/>, copied.</summary>
    /// <param name="index">The example, from 0.</param>
    public T[] GetTarget(int index) => GetTargetSpan(index).ToArray();

    /// <summary>Input <paramref name="index"/> without copying.</summary>
    /// <param name="index">The example, from 0.</param>
    public ReadOnlySpan<T> GetInputSpan(int index) => Inputs.AsSpan().Slice(Checked(index, nameof(index)) * InputWidth, InputWidth);

    /// <summary>Target <paramref name="index"/> without copying.</summary>
    /// <param name="index">The example, from 0.</param>
    public ReadOnlySpan<T> GetTargetSpan(int index) => Targets.AsSpan().Slice(Checked(index, nameof(index)) * TargetWidth, TargetWidth);

    /// <summary>Every input, one array per example, copied.</summary>
    public T[][] GetInputs() => Core.Matrix.toColumns(Inputs);

    /// <summary>Every target, one array per example, copied.</summary>
    public T[][] GetTargets() => Core.Matrix.toColumns(Targets);

    /// <summary>
    /// The class of each example's target, the inverse of <see cref="FromLabels"/>: the index of
    /// its largest entry (its 1, when one-hot), or for one-entry targets 1 when the entry is at least ½.
    /// </summary>
    public int[] GetLabels() => Core.Evaluation.classes(Targets);

    /// <summary>The examples from <paramref name="start"/> on, <paramref name="count"/> of them (as <see cref="Span{T}.Slice(int, int)"/> takes them).</summary>
    /// <param name="start">The first example, from 0; <see cref="Count"/> for none.</param>
    /// <param name="count">How many, 0 … <see cref="Count"/> − <paramref name="start"/>.</param>
    public Dataset<T> Slice(int start, int count)
    {
        if (start < 0 || start > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(start), start, $"The data set holds {Core.Wording.count(Count, "example")}, so a slice starts at 0 … {Count}.");
        }

        if (count < 0 || count > Count - start)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"From example {start}, 0 … {Count - start} examples can be taken.");
        }

        return new Dataset<T>(Core.Matrix.sliceColumns(start, count, Inputs), Core.Matrix.sliceColumns(start, count, Targets), ClassCount, InputImage);
    }

    /// <summary>The first <paramref name="count"/> examples, or all of them when there are fewer, as LINQ's <see cref="System.Linq.Enumerable.Take{TSource}(IEnumerable{TSource}, int)"/> takes them (none for a count of 0 or less).</summary>
    /// <param name="count">How many.</param>
    public Dataset<T> Take(int count) => Slice(0, Math.Clamp(count, 0, Count));

    /// <summary>The examples after the first <paramref name="count"/>, as LINQ's <see cref="System.Linq.Enumerable.Skip{TSource}(IEnumerable{TSource}, int)"/> skips them (none when there are no more, all for a count of 0 or less).</summary>
    /// <param name="count">How many to skip.</param>
    public Dataset<T> Skip(int count)
    {
        var skipped = Math.Clamp(count, 0, Count);
        return Slice(skipped, Count - skipped);
    }

    /// <summary>The examples in a random order drawn from the seed: the same seed gives the same order on every machine.</summary>
    /// <param name="seed">Any number.</param>
    public Dataset<T> Shuffle(long seed)
    {
        var order = Core.Random.permutation(unchecked((ulong)seed), Count);
        return new Dataset<T>(Core.Matrix.selectColumns(order, Inputs), Core.Matrix.selectColumns(order, Targets), ClassCount, InputImage);
    }

    /// <summary>
    /// Shuffles the examples (<see cref="Shuffle"/>) and splits them in two, as scikit-learn's
    /// train_test_split does: the first part has round(fraction × Count) examples.
    /// </summary>
    /// <param name="fraction">The share of the first part, strictly between 0 and 1; both parts get at least one example.</param>
    /// <param name="seed">Seeds the shuffle.</param>
    /// <returns>The two parts: <c>var (training, test) = data.Split(0.8, seed: 1);</c></returns>
    public (Dataset<T> Training, Dataset<T> Test) Split(double fraction, long seed)
    {
        var first = fraction > 0 && fraction < 1 ? (int)Math.Round(fraction * Count, MidpointRounding.AwayFromZero) : -1;
        if (first < 1 || first >= Count)
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, $"A fraction strictly between 0 and 1 that leaves both parts of the {Count} examples at least one.");
        }

        var shuffled = Shuffle(seed);
        return (shuffled.Take(first), shuffled.Skip(first));
    }

    /// <summary>The same examples with each input replaced by <paramref name="map"/> of it (targets unchanged); images stay images of their shape when the map keeps their length.</summary>
    /// <param name="map">Given a copy of an input; returns the new input, of one length for every example, finite.</param>
    public Dataset<T> MapInputs(Func<T[], T[]> map) => new(Mapped(Inputs, map, nameof(map)), Targets, ClassCount, InputImage);

    /// <summary>The same examples with each target replaced by <paramref name="map"/> of it (inputs unchanged).</summary>
    /// <param name="map">Given a copy of a target; returns the new target, of one length for every example, finite.</param>
    public Dataset<T> MapTargets(Func<T[], T[]> map) => new(Inputs, Mapped(Targets, map, nameof(map)), image: InputImage);

    /// <summary>
    /// The examples, each followed by four copies of its image moved by <paramref name="pixels"/>
    /// down, up, right and left (the pixels moved in from outside the image are 0), each copy with
    /// its example's target: five times as many examples. A digit moved by a pixel is the same
    /// digit; trained on such copies, a convolutional network learns that a small translation keeps
    /// the class (README's LeNet-5 on the bundled digits trains on them). Use it on training data
    /// only, after any split, so that no test image has a copy among the training examples.
    /// </summary>
    /// <param name="pixels">How far each copy moves: at least 1, and less than the images' height and width.</param>
    /// <exception cref="InvalidOperationException">The examples are not images (<see cref="InputImage"/> is null).</exception>
    public Dataset<T> WithShiftedImages(int pixels = 1)
    {
        if (InputImage is not { } image)
        {
            throw new InvalidOperationException($"Only images can be shifted; these examples are vectors of {InputWidth} values (make them images with FromImages or Mnist.Load).");
        }

        if (pixels < 1 || pixels >= Math.Min(image.Height, image.Width))
        {
            throw new ArgumentOutOfRangeException(nameof(pixels), pixels, $"A shift of at least 1 pixel and less than the {image} images' height and width.");
        }

        var (inputs, targets) = Core.Translations.augment(Core.Shape.NewImage(image.Channels, image.Height, image.Width), Core.Translations.fourWays(pixels), Inputs, Targets);
        return new Dataset<T>(inputs, targets, ClassCount, image);
    }

    /// <summary>"1797 examples, 64 inputs → 10 targets", "1 example, 2 inputs → 1 target", "8000 examples, 1×28×28 images → 10 targets".</summary>
    public override string ToString() => InputImage is { } image
        ? $"{Core.Wording.count(Count, "example")}, {image} images → {Core.Wording.count(TargetWidth, "target")}"
        : $"{Core.Wording.count(Count, "example")}, {Core.Wording.count(InputWidth, "input")} → {Core.Wording.count(TargetWidth, "target")}";

    private int Checked(int index, string name) =>
        index >= 0 && index < Count ? index : throw new ArgumentOutOfRangeException(name, index, $"The examples are 0 … {Count - 1}.");

    private static Core.Matrix<T> Mapped(Core.Matrix<T> m, Func<T[], T[]> map, string name)
    {
        ArgumentNullException.ThrowIfNull(map, name);
        var results = Core.Matrix.toColumns(m).Select(map).ToArray();
        return Entries.FromJagged(results, new Naming(name, (i, j) => $"{name}(example {j})[{i}]", j => $"{name}(example {j})"));
    }
}
