using System;
using System.IO;
using System.Linq;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>Your own CSV files: labels as numbers or given classes, regression with several targets, errors at 1-based lines and columns.</summary>
public sealed class CsvDataTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("fbp-csv-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string File(string text)
    {
        var path = Path.Combine(folder, $"{Guid.NewGuid():N}.csv");
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void NumericLabelsAreReadAsNumbersAndOrderedNumerically()
    {
        var labels = new[] { 10, 2, 0, 1, 9, 3, 4, 5, 6, 7, 8 };
        var csv = CsvData.LoadClassification<double>(File("x,label\n" + string.Concat(labels.Select(l => $"{l},{l}\n"))));
        Assert.Equal(Enumerable.Range(0, 11).Select(k => k.ToString()), csv.ClassNames);
        Assert.Equal(labels, csv.Labels);
        Assert.Equal(labels, csv.Data.GetLabels());
        Assert.Equal("label", csv.LabelName);
    }

    [Fact]
    public void AnEmptyLabelIsAnErrorNamingItsLine()
    {
        var e = Assert.Throws<FormatException>(() => CsvData.LoadClassification<double>(File("a,b,label\n1,2,x\n3,4,\n5,6,y\n")));
        Assert.Contains("Line 3, column 3 (label): the label is empty", e.Message);
    }

    [Fact]
    public void AGivenClassCountTakesItsIntegersAndRefusesAnyOtherLabelNamingItsLine()
    {
        var path = File("a,digit\n0,3\n0,1\n");
        var csv = CsvData.LoadClassification<double>(path, classCount: 10);
        Assert.Equal(10, csv.Data.TargetWidth);
        Assert.Equal(new[] { 3, 1 }, csv.Labels);
        var e = Assert.Throws<FormatException>(() => CsvData.LoadClassification<double>(File("a,digit\n0,3\n0,1\n0,12\n"), classCount: 10));
        Assert.Contains("Line 4, column 2 (digit): the label '12' is not one of the classes (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)", e.Message);
    }

    [Fact]
    public void GivenClassNamesSetTheOrderAndRefuseAnyOtherLabel()
    {
        var csv = CsvData.LoadClassification<float>(File("species,w\nsetosa,1\nvirginica,2\n"), labelColumn: "species", classes: new[] { "virginica", "versicolor", "setosa" });
        Assert.Equal(new[] { 2, 0 }, csv.Labels);
        Assert.Equal(new[] { "w" }, csv.FeatureNames);
        Assert.Equal(new[] { 0f, 0f, 1f }, csv.Data.GetTarget(0));
        var e = Assert.Throws<FormatException>(() => CsvData.LoadClassification<float>(File("species,w\nsetosa,1\n\nrose,2\n"), labelColumn: "species", classes: new[] { "virginica", "setosa" }));
        Assert.Contains("Line 4, column 1 (species): the label 'rose' is not one of the classes (virginica, setosa)", e.Message);
        Assert.Equal("classCount", Assert.Throws<ArgumentException>(() => CsvData.LoadClassification<float>(File("a,b\n1,2\n"), classes: new[] { "1", "2" }, classCount: 2)).ParamName);
    }

    [Fact]
    public void ErrorsCountLinesAndColumnsFromOne()
    {
        var e = Assert.Throws<FormatException>(() => CsvData.LoadClassification<double>(File("a,b,label\n1,2,x\n3,oops,y\n")));
        Assert.Contains("Line 3, column 2 (b): 'oops' is not a number", e.Message);
        var unknown = Assert.Throws<ArgumentException>(() => CsvData.LoadClassification<double>(File("a,b\n1,2\n"), labelColumn: "c"));
        Assert.Equal("labelColumn", unknown.ParamName);
    }

    [Fact]
    public void ARegressionFileCanHaveSeveralTargetColumns()
    {
        var path = File("x1,y1,x2,y2\n1,10,2,20\n3,30,4,40\n");
        var byName = CsvData.LoadRegression<double>(path, targetColumns: new[] { "y1", "y2" });
        Assert.Equal(new[] { "x1", "x2" }, byName.FeatureNames);
        Assert.Equal(new[] { "y1", "y2" }, byName.TargetNames);
        Assert.Equal(new[] { new[] { 1.0, 2 }, new[] { 3.0, 4 } }, byName.Data.GetInputs());
        Assert.Equal(new[] { new[] { 10.0, 20 }, new[] { 30.0, 40 } }, byName.Data.GetTargets());
        var lastTwo = CsvData.LoadRegression<double>(path, targetCount: 2);
        Assert.Equal(new[] { "x2", "y2" }, lastTwo.TargetNames);
        var e = Assert.Throws<FormatException>(() => CsvData.LoadRegression<double>(File("x,y1,y2\n1,2,3\n4,5,\n"), targetCount: 2));
        Assert.Contains("Line 3, column 3 (y2): the target is empty", e.Message);
        Assert.Equal("targetCount", Assert.Throws<ArgumentOutOfRangeException>(() => CsvData.LoadRegression<double>(path, targetCount: 4)).ParamName);
    }

    [Fact]
    public void ARegressionNetworkLearnsTwoTargetsFromAFile()
    {
        // y1 = x1 + x2, y2 = x1 − x2 on a grid: a linear network finds them.
        var rows = from a in Enumerable.Range(-2, 5) from b in Enumerable.Range(-2, 5) select $"{a},{b},{a + b},{a - b}";
        var csv = CsvData.LoadRegression<double>(File("x1,x2,sum,difference\n" + string.Join("\n", rows)), targetCount: 2);
        var network = NeuralNetwork.Create(2).Dense(2, Activation.Identity).Build(seed: 1);
        Assert.Equal(Loss.Quadratic, network.DefaultLoss);
        var result = network.Fit(csv.Data, new FitOptions { Epochs = 300, BatchSize = 5, Optimizer = Optimizer.Adam(0.05) });
        var evaluation = result.Network.Evaluate(csv.Data);
        Assert.IsNotType<ClassificationResult>(evaluation);
        Assert.True(evaluation.Loss < 1e-6, $"loss {evaluation.Loss}");
    }

    [Fact]
    public void TheBundledDigitsLoad()
    {
        var root = AppContext.BaseDirectory;
        while (!System.IO.File.Exists(Path.Combine(root, "README.md")))
        {
            root = Path.GetDirectoryName(root)!;
        }

        var digits = CsvData.LoadClassification<double>(Path.Combine(root, "data", "digits", "digits.csv"), labelColumn: "digit", classCount: 10);
        Assert.Equal(1797, digits.Data.Count);
        Assert.Equal(64, digits.Data.InputWidth);
        Assert.Equal("pixel_7_7", digits.FeatureNames[^1]);
        Assert.Equal(new[] { 178, 182, 177, 183, 181, 182, 181, 179, 174, 180 }, digits.Labels.GroupBy(l => l).OrderBy(g => g.Key).Select(g => g.Count()));
        Assert.All(digits.Data.GetInputs().SelectMany(x => x), v => Assert.InRange(v, 0, 16));
    }
}
