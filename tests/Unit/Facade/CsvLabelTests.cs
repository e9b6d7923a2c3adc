using System;
using System.IO;
using System.Linq;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>
/// Issue 23, point 5: numeric labels are compared as numbers everywhere, a stray label among
/// integer labels is refused naming its line and column (unless classes are given by name), and
/// the load result tells each class with its count.
/// </summary>
public sealed class CsvLabelTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("fbp-labels-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>A file of one feature and the given labels, one row each, from line 2.</summary>
    private string Labels(params string[] labels)
    {
        var path = Path.Combine(folder, $"{Guid.NewGuid():N}.csv");
        File.WriteAllLines(path, labels.Select((l, j) => $"{j},{l}").Prepend("x,label"));
        return path;
    }

    [Fact]
    public void TwoAndTwoPointZeroAreOneClassWithOrWithoutAClassList()
    {
        var path = Labels("0", "2.0", "1", "2", "0");
        var expected = new[] { 0, 2, 1, 2, 0 };
        Assert.Equal(expected, CsvData.LoadClassification<double>(path).Labels);
        Assert.Equal(expected, CsvData.LoadClassification<double>(path, classCount: 3).Labels);
        Assert.Equal(expected, CsvData.LoadClassification<double>(path, classes: new[] { "0", "1", "2" }).Labels);
        Assert.Equal(new[] { 2, 0, 1, 0, 2 }, CsvData.LoadClassification<double>(path, classes: new[] { "2", "1.0", "0" }).Labels);
    }

    [Theory]
    [InlineData("2.5")]
    [InlineData("B")]
    public void AStrayLabelAmongIntegerLabelsIsRefusedNamingItsLineAndColumn(string stray)
    {
        var path = Labels("0", "1", "2", "1", stray, "0", "2");
        var e = Assert.Throws<FormatException>(() => CsvData.LoadClassification<double>(path));
        Assert.Contains($"Line 6, column 2 (label): the label '{stray}' is not an integer", e.Message);
        Assert.Contains("6 of the 7 labels are (0 … 2)", e.Message);
        Assert.Contains("classes: …", e.Message);
    }

    [Fact]
    public void AStrayLabelIsAClassOfItsOwnWhenTheClassesAreGivenByName()
    {
        var csv = CsvData.LoadClassification<double>(Labels("0", "1", "B", "1"), classes: new[] { "0", "1", "B" });
        Assert.Equal(new[] { 0, 1, 2, 1 }, csv.Labels);
    }

    [Fact]
    public void MostlyTextLabelsStayTextClasses()
    {
        var csv = CsvData.LoadClassification<double>(Labels("setosa", "virginica", "3", "setosa"));
        Assert.Equal(new[] { "3", "setosa", "virginica" }, csv.ClassNames);
    }

    [Fact]
    public void TheLoadResultTellsEachClassWithItsCount()
    {
        var csv = CsvData.LoadClassification<double>(Labels("1", "0", "1", "2", "1"));
        Assert.Equal("5 rows, 1 feature, label 'label' of 3 classes: 0 (1), 1 (3), 2 (1)", csv.ToString());
    }

    [Fact]
    public void ClassCountsCountTheRowsOfEachClass()
    {
        var digits = CsvData.LoadClassification<double>(Path.Combine(Repository.Root(), "data", "digits", "digits.csv"), labelColumn: "digit");
        Assert.Equal(digits.ClassNames.Select((_, k) => digits.Labels.Count(l => l == k)), digits.ClassCounts);

        // The counts data/digits/README.md gives, as "Label counts: 0:178 1:182 …".
        var readme = File.ReadAllLines(Path.Combine(Repository.Root(), "data", "digits", "README.md")).Single(l => l.StartsWith("Label counts:", StringComparison.Ordinal));
        var documented = readme["Label counts:".Length..].TrimEnd('.').Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(documented, digits.ClassCounts);
    }
}
