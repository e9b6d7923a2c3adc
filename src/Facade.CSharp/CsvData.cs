using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using Microsoft.FSharp.Collections;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>A table read from CSV for classification: features, one-hot targets, and the class names.</summary>
/// <typeparam name="T">double or float.</typeparam>
/// <param name="Data">
/// The examples: the features as they are in the file (fit a <see cref="Scaler"/> to scale them),
/// targets one-hot over <paramref name="ClassNames"/>. Its <see cref="Dataset{T}.ClassCount"/> is
/// set, so the targets follow the network's output layer: for two classes, one sigmoid unit or two
/// softmax units.
/// </param>
/// <param name="ClassNames">The classes; target k, and label k, is class ClassNames[k].</param>
/// <param name="FeatureNames">The feature columns' names.</param>
/// <param name="Labels">Each row's class index, ready for <see cref="NeuralNetwork{T}.Fit(T[][], IReadOnlyList{int}, FitOptions{T}?, IProgress{EpochReport}?, System.Threading.CancellationToken)"/>.</param>
/// <param name="LabelName">The label column's name.</param>
public sealed record CsvClassification<T>(Dataset<T> Data, IReadOnlyList<string> ClassNames, IReadOnlyList<string> FeatureNames, IReadOnlyList<int> Labels, string LabelName)
    where T : IFloatingPointIeee754<T>
{
    /// <summary>How many rows each class has: ClassCounts[k] rows of class ClassNames[k].</summary>
    public IReadOnlyList<int> ClassCounts => Enumerable.Range(0, ClassNames.Count).Select(k => Labels.Count(label => label == k)).ToArray();

    /// <summary>"1797 rows, 64 features, label 'digit' of 10 classes: 0 (178), 1 (182), …": each class with its count, to check a file at a glance.</summary>
    public override string ToString()
    {
        var counts = ClassCounts;
        var classes = string.Join(", ", ClassNames.Select((name, k) => $"{name} ({counts[k]})"));
        return $"{Core.Wording.count(Labels.Count, "row")}, {Core.Wording.count(FeatureNames.Count, "feature")}, label '{LabelName}' of {Core.Wording.countWith(ClassNames.Count, "class", "classes")}: {classes}";
    }
}

/// <summary>A table read from CSV for regression: features and one or more numeric targets per row.</summary>
/// <typeparam name="T">double or float.</typeparam>
/// <param name="Data">The examples, with one target value per target column.</param>
/// <param name="FeatureNames">The feature columns' names.</param>
/// <param name="TargetNames">The target columns' names, in the order of each target's values.</param>
public sealed record CsvRegression<T>(Dataset<T> Data, IReadOnlyList<string> FeatureNames, IReadOnlyList<string> TargetNames)
    where T : IFloatingPointIeee754<T>;

/// <summary>
/// Reads your own tabular data from CSV files: RFC 4180 quoting, numbers in the invariant culture
/// (a point for decimals), UTF-8. Every column but the label (or targets) is a numeric feature.
/// Malformed text is a <see cref="FormatException"/> naming the line and the column, both counted
/// from 1 as an editor and a spreadsheet count them. Features are read as they are: scale them
/// with a <see cref="Scaler"/> fitted on the training rows.
/// </summary>
public static class CsvData
{
    /// <summary>
    /// Reads features and a class label per row; labels become one-hot targets, which follow the
    /// network's output layer (for two classes, one sigmoid unit takes them as one 0/1 target).
    /// The classes are <paramref name="classes"/> when given, 0 … <paramref name="classCount"/> − 1
    /// when that is given, and otherwise the distinct labels found: when most labels are integers,
    /// every label must be one (a stray "2.5" or "B" is an error naming its line and column), in
    /// numeric order (so "2" comes before "10"); texts in ordinal order otherwise. Labels that are
    /// numbers are compared as numbers everywhere: "2" and "2.0" are one class. Give the classes
    /// when you load training and test files separately, so that both number them alike; the
    /// result's <see cref="CsvClassification{T}.ClassCounts"/> (and its ToString) tell how many rows
    /// each class has.
    /// </summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="path">The file.</param>
    /// <param name="labelColumn">The label column's name in the header (or "column k", from 1, without one); the last column when null.</param>
    /// <param name="classes">The class labels as written in the file, in class order; any other label is an error.</param>
    /// <param name="classCount">The number of classes, whose labels are the integers 0 … classCount − 1; any other label is an error.</param>
    /// <param name="hasHeader">Whether the first row names the columns.</param>
    /// <param name="separator">The field separator.</param>
    /// <exception cref="FormatException">The text is malformed, a feature is not a number, or a label is empty, not one of the classes, or not an integer among integer labels; the message names the line and column.</exception>
    /// <exception cref="ArgumentException">No column has the label column's name, or both <paramref name="classes"/> and <paramref name="classCount"/> are given.</exception>
    public static CsvClassification<T> LoadClassification<T>(
        string path, string? labelColumn = null, IReadOnlyList<string>? classes = null, int? classCount = null, bool hasHeader = true, char separator = ',')
        where T : IFloatingPointIeee754<T>
    {
        NeuralNetwork.CheckRealType<T>();
        if (classes is not null && classCount is not null)
        {
            throw new ArgumentException("Give the classes either by name or by count, not both.", nameof(classCount));
        }

        var set = classes is not null ? Core.ClassSet.NewNames(ListModule.OfSeq(classes))
            : classCount is { } count ? Core.ClassSet.NewCount(count)
            : Core.ClassSet.Inferred;
        var targets = labelColumn is null ? Core.TargetColumns.NewLast(1) : Core.TargetColumns.NewNames(ListModule.OfSeq(new[] { labelColumn }));
        var table = Read(path, targets, hasHeader, separator, nameof(labelColumn));
        var (names, labels) = CallerTerms.Call(() => Core.Csv.classes(set, table), core => classes is not null ? nameof(classes) : nameof(classCount)).ToValueTuple();
        var data = Dataset<T>.FromCore(Core.Csv.features<T>(table), Core.ClassLabels.oneHot<T>(names.Length, labels), names.Length);
        return new CsvClassification<T>(data, names, table.FeatureNames, labels, table.TargetNames[0]);
    }

    /// <summary>Reads features and one or more numeric targets per row.</summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="path">The file.</param>
    /// <param name="targetColumns">The target columns' names in the header (or "column k", from 1, without one); the last <paramref name="targetCount"/> columns when null.</param>
    /// <param name="targetCount">With no names, how many of the last columns are targets (1 by default).</param>
    /// <param name="hasHeader">Whether the first row names the columns.</param>
    /// <param name="separator">The field separator.</param>
    /// <exception cref="FormatException">The text is malformed, or a feature or target is empty or not a number; the message names the line and column.</exception>
    /// <exception cref="ArgumentException">A target column does not exist, or every column would be a target.</exception>
    public static CsvRegression<T> LoadRegression<T>(
        string path, IReadOnlyList<string>? targetColumns = null, int targetCount = 1, bool hasHeader = true, char separator = ',')
        where T : IFloatingPointIeee754<T>
    {
        NeuralNetwork.CheckRealType<T>();
        var targets = targetColumns is null ? Core.TargetColumns.NewLast(targetCount) : Core.TargetColumns.NewNames(ListModule.OfSeq(targetColumns));
        var table = Read(path, targets, hasHeader, separator, targetColumns is null ? nameof(targetCount) : nameof(targetColumns));
        var data = Dataset<T>.FromCore(Core.Csv.features<T>(table), Core.Csv.targets<T>(table));
        return new CsvRegression<T>(data, table.FeatureNames, table.TargetNames);
    }

    private static Core.CsvTable Read(string path, Core.TargetColumns targets, bool hasHeader, char separator, string targetParameter)
    {
        ArgumentNullException.ThrowIfNull(path);
        var options = new Core.CsvOptions(separator, hasHeader, targets);
        return CallerTerms.Call(() => Core.Csv.read(options, path), core => core == "Targets" ? targetParameter : nameof(path));
    }
}
