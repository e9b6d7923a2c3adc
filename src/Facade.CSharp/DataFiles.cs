using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>MNIST's training and test digits, ready to train on.</summary>
/// <typeparam name="T">double or float.</typeparam>
/// <param name="Training">The training digits: 784 pixels in [0, 1] per input, one-hot targets of 10.</param>
/// <param name="Test">The test digits, likewise.</param>
/// <param name="TrainingLabels">The digit each training image shows.</param>
/// <param name="TestLabels">The digit each test image shows.</param>
public sealed record MnistData<T>(Dataset<T> Training, Dataset<T> Test, IReadOnlyList<int> TrainingLabels, IReadOnlyList<int> TestLabels)
    where T : IFloatingPointIeee754<T>;

/// <summary>Loads MNIST from its standard IDX files (gzip-compressed or raw).</summary>
public static class Mnist
{
    /// <summary>
    /// Loads train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
    /// t10k-labels-idx1-ubyte (each with or without .gz) from a folder; the full 60,000/10,000
    /// MNIST and the bundled 8,000/2,000 subset (data/mnist-10k) load alike.
    /// </summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="folder">The folder holding the four files.</param>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is truncated or corrupt; the message names it and the problem.</exception>
    public static MnistData<T> Load<T>(string folder)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(folder);
        NeuralNetwork.CheckRealType<T>();
        var (training, test) = Core.Mnist.load<T>(folder);
        return new MnistData<T>(ToDataset(training), ToDataset(test), training.Labels, test.Labels);
    }

    private static Dataset<T> ToDataset<T>(Core.DigitSet<T> set)
        where T : IFloatingPointIeee754<T> =>
        Dataset<T>.FromCore(set.Images, Core.Mnist.oneHot<T>(10, set.Labels));
}

/// <summary>A table read from CSV for classification: features, one-hot targets, and the class names.</summary>
/// <typeparam name="T">double or float.</typeparam>
/// <param name="Data">The examples; targets one-hot over <paramref name="ClassNames"/>.</param>
/// <param name="ClassNames">The distinct labels in ordinal order; target k is class ClassNames[k].</param>
/// <param name="FeatureNames">The feature columns' names.</param>
/// <param name="Labels">Each row's class index.</param>
public sealed record CsvClassification<T>(Dataset<T> Data, IReadOnlyList<string> ClassNames, IReadOnlyList<string> FeatureNames, IReadOnlyList<int> Labels)
    where T : IFloatingPointIeee754<T>;

/// <summary>A table read from CSV for regression: features and one numeric target per row.</summary>
/// <typeparam name="T">double or float.</typeparam>
/// <param name="Data">The examples, with one target value each.</param>
/// <param name="FeatureNames">The feature columns' names.</param>
/// <param name="TargetName">The target column's name.</param>
public sealed record CsvRegression<T>(Dataset<T> Data, IReadOnlyList<string> FeatureNames, string TargetName)
    where T : IFloatingPointIeee754<T>;

/// <summary>Reads users' own tabular data from CSV files (RFC 4180 quoting, invariant-culture numbers).</summary>
public static class CsvData
{
    /// <summary>Reads features and a class label per row; labels become one-hot targets.</summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="path">The file (UTF-8).</param>
    /// <param name="labelColumn">The label column's name in the header; the last column when null.</param>
    /// <param name="hasHeader">Whether the first row names the columns.</param>
    /// <param name="separator">The field separator.</param>
    /// <exception cref="FormatException">The text is malformed; the message names the line and column.</exception>
    public static CsvClassification<T> LoadClassification<T>(string path, string? labelColumn = null, bool hasHeader = true, char separator = ',')
        where T : IFloatingPointIeee754<T>
    {
        var table = Read(path, labelColumn, hasHeader, separator);
        var (names, labels) = Core.Csv.classes(table).ToValueTuple();
        if (names.Length < 2)
        {
            throw new FormatException($"Every row has the label \"{names[0]}\": classification needs at least two classes.");
        }

        var data = Dataset<T>.FromLabels(Convert<T>(table.Features, table.FeatureNames), labels, names.Length);
        return new CsvClassification<T>(data, names, table.FeatureNames, labels);
    }

    /// <summary>Reads features and one numeric target per row.</summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="path">The file (UTF-8).</param>
    /// <param name="targetColumn">The target column's name in the header; the last column when null.</param>
    /// <param name="hasHeader">Whether the first row names the columns.</param>
    /// <param name="separator">The field separator.</param>
    /// <exception cref="FormatException">The text is malformed or a target is not a number.</exception>
    public static CsvRegression<T> LoadRegression<T>(string path, string? targetColumn = null, bool hasHeader = true, char separator = ',')
        where T : IFloatingPointIeee754<T>
    {
        var table = Read(path, targetColumn, hasHeader, separator);
        var targets = Core.Csv.numericLabels(table).Select((v, row) => new[] { Narrow<T>(v, row, table.LabelName) }).ToArray();
        return new CsvRegression<T>(Dataset<T>.FromArrays(Convert<T>(table.Features, table.FeatureNames), targets), table.FeatureNames, table.LabelName);
    }

    private static Core.CsvTable Read(string path, string? column, bool hasHeader, char separator)
    {
        ArgumentNullException.ThrowIfNull(path);
        var label = column is null ? Core.LabelColumn.Last : Core.LabelColumn.NewName(column);
        return Core.Csv.read(new Core.CsvOptions(separator, hasHeader, label), path);
    }

    /// <summary>The features as T; a number that T cannot hold (1e300 as float) is a FormatException, like any other bad number in the text.</summary>
    private static T[][] Convert<T>(double[][] rows, IReadOnlyList<string> names)
        where T : IFloatingPointIeee754<T> =>
        rows.Select((r, row) => r.Select((v, k) => Narrow<T>(v, row, names[k])).ToArray()).ToArray();

    private static T Narrow<T>(double value, int row, string column)
        where T : IFloatingPointIeee754<T>
    {
        var narrowed = T.CreateTruncating(value);
        return T.IsFinite(narrowed)
            ? narrowed
            : throw new FormatException($"Data row {row + 1}, column {column}: {value:R} is outside the range of {typeof(T).Name}.");
    }
}
