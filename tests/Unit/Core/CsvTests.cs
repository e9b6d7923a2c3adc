using System;
using System.IO;
using System.Linq;
using FunctionalBackprop.Core;
using Microsoft.FSharp.Collections;
using Xunit;

namespace FunctionalBackprop.Tests.CoreApi;

/// <summary>The core's CSV reader: targets by position or name, classes found or given, numbers where they belong, lines and columns counted from 1.</summary>
public class CsvTests
{
    private static CsvTable Parse(string text, CsvOptions? options = null) => Csv.parse(options ?? Csv.defaults, new StringReader(text));

    private static CsvOptions Targets(TargetColumns targets, bool header = true) => new(',', header, targets);

    [Fact]
    public void RowsRememberTheLineTheyStartOn()
    {
        var table = Parse("a,b,label\n1,2,x\n\n\"3\n\",4,y\n5,6,z\n");
        Assert.Equal(new[] { 2, 4, 6 }, table.Lines);
        Assert.Equal(new[] { "a", "b" }, table.FeatureNames);
        Assert.Equal(new[] { "label" }, table.TargetNames);
        Assert.Equal(new[] { 2 }, table.TargetIndices);
    }

    [Fact]
    public void TargetsCanBeTheLastColumnsNamedColumnsOrPositions()
    {
        const string text = "y1,a,y2,b\n1,2,3,4\n5,6,7,8\n";
        var byName = Parse(text, Targets(TargetColumns.NewNames(ListModule.OfSeq(new[] { "y2", "y1" }))));
        Assert.Equal(new[] { "y2", "y1" }, byName.TargetNames);
        Assert.Equal(new[] { new[] { 3.0, 1.0 }, new[] { 7.0, 5.0 } }, Csv.numericTargets(byName));
        Assert.Equal(new[] { new[] { 2.0, 4.0 }, new[] { 6.0, 8.0 } }, byName.Features);
        var last = Parse(text, Targets(TargetColumns.NewLast(2)));
        Assert.Equal(new[] { "y2", "b" }, last.TargetNames);
        var positions = Parse(text, Targets(TargetColumns.NewIndices(ListModule.OfSeq(new[] { 0 }))));
        Assert.Equal(new[] { "a", "y2", "b" }, positions.FeatureNames);
        Assert.Equal(new[] { 1.0, 5.0 }, Csv.targets<double>(positions).ToArray());
    }

    [Fact]
    public void TargetColumnsThatDoNotExistOrLeaveNoFeatureAreRefused()
    {
        const string text = "a,b\n1,2\n";
        Assert.Contains("No column is named \"c\"", Assert.Throws<ArgumentException>(() => Parse(text, Targets(TargetColumns.NewNames(ListModule.OfSeq(new[] { "c" }))))).Message);
        Assert.Contains("between 1 and 1 of them", Assert.Throws<ArgumentOutOfRangeException>(() => Parse(text, Targets(TargetColumns.NewLast(2)))).Message);
        Assert.Contains("index 5", Assert.Throws<ArgumentOutOfRangeException>(() => Parse(text, Targets(TargetColumns.NewIndices(ListModule.OfSeq(new[] { 5 }))))).Message);
    }

    [Fact]
    public void NumericLabelsAreClassesInNumericOrder()
    {
        var text = "x,label\n" + string.Concat(new[] { 10, 2, 0, 1, 7, 3, 4, 5, 6, 8, 9, 2 }.Select(l => $"0,{l}\n")) + "0,7.0\n";
        var (names, labels) = Csv.classes(ClassSet.Inferred, Parse(text)).ToValueTuple();
        Assert.Equal(Enumerable.Range(0, 11).Select(k => k.ToString()), names);
        Assert.Equal(new[] { 10, 2, 0, 1, 7, 3, 4, 5, 6, 8, 9, 2, 7 }, labels);
    }

    [Fact]
    public void TextLabelsAreClassesInOrdinalOrderUnlessGiven()
    {
        var table = Parse("x,label\n0,dog\n0,cat\n0,ant\n0,cat\n");
        Assert.Equal(new[] { "ant", "cat", "dog" }, Csv.classes(ClassSet.Inferred, table).Item1);
        var (names, labels) = Csv.classes(ClassSet.NewNames(ListModule.OfSeq(new[] { "dog", "cat", "ant" })), table).ToValueTuple();
        Assert.Equal(new[] { "dog", "cat", "ant" }, names);
        Assert.Equal(new[] { 0, 1, 2, 1 }, labels);
    }

    [Fact]
    public void AGivenCountTakesTheIntegersBelowIt()
    {
        var table = Parse("x,label\n0,3\n0,0.0\n0,1\n");
        var (names, labels) = Csv.classes(ClassSet.NewCount(4), table).ToValueTuple();
        Assert.Equal(new[] { "0", "1", "2", "3" }, names);
        Assert.Equal(new[] { 3, 0, 1 }, labels);
    }

    [Theory]
    [InlineData("x,label\n0,1\n0,\n", "Line 3, column 2 (label): the label is empty")]
    [InlineData("x,label\n0,1\n0,1\n", "Every row has the label \"1\"")]
    public void LabelsFoundInTheFileMustBeThereAndDiffer(string text, string message) =>
        Assert.Contains(message, Assert.Throws<FormatException>(() => Csv.classes(ClassSet.Inferred, Parse(text))).Message);

    [Theory]
    [InlineData("x,label\n0,1\n0,4\n", "Line 3, column 2 (label): the label '4' is not one of the classes (0, 1, 2, 3)")]
    [InlineData("x,label\n0,1\n\n0,1.5\n", "Line 4, column 2 (label): the label '1.5' is not one of the classes")]
    [InlineData("label,x\n-1,0\n", "Line 2, column 1 (label): the label '-1'")]
    public void ALabelOutsideAGivenCountIsAnErrorNamingItsLineAndColumn(string text, string message)
    {
        var options = text.StartsWith("label", StringComparison.Ordinal) ? Targets(TargetColumns.NewNames(ListModule.OfSeq(new[] { "label" }))) : Csv.defaults;
        Assert.Contains(message, Assert.Throws<FormatException>(() => Csv.classes(ClassSet.NewCount(4), Parse(text, options))).Message);
    }

    [Theory]
    [InlineData("a,b\n1,x\n", "Line 2, column 2 (b): the target 'x' is not a finite number")]
    [InlineData("a,b\n1,2\n3,\n", "Line 3, column 2 (b): the target is empty")]
    public void ARegressionTargetMustBeANumber(string text, string message) =>
        Assert.Contains(message, Assert.Throws<FormatException>(() => Csv.numericTargets(Parse(text))).Message);

    [Theory]
    [InlineData("a,b,c\n1,x,0\n", "Line 2, column 2 (b): 'x' is not a number")]
    [InlineData("a,b,c\n1,,0\n", "Line 2, column 2 (b): the field is empty")]
    [InlineData("a,b,c\n1,2,0\n1,\"2\"x,0\n", "Line 3, column 2: text after a closing quote")]
    [InlineData("a,b,c\n1,2,0\n1,2,\"0\n", "Line 3, column 3: a quoted field is not closed")]
    [InlineData("1,2,0\n1,2,0\nNaN,1,0\n", "Line 3, column 1 (column 1): NaN is not a finite number")]
    public void FeatureErrorsNameTheLineAndColumnCountedFromOne(string text, string message)
    {
        var options = text.StartsWith('a') ? Csv.defaults : Targets(TargetColumns.NewLast(1), header: false);
        Assert.Contains(message, Assert.Throws<FormatException>(() => Parse(text, options)).Message);
    }

    [Fact]
    public void ANumberBeyondFloatIsAnErrorNamingItsLineAndColumn()
    {
        var table = Parse("a,b,label\n1,2,0\n3,-4e38,1\n");
        Assert.Equal(-4e38, Csv.features<double>(table)[1, 1]);
        Assert.Contains("Line 3, column 2 (b): -4E+38 is outside the range of Single", Assert.Throws<FormatException>(() => Csv.features<float>(table)).Message);
    }
}
