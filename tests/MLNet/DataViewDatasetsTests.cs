using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace FunctionalBackprop.MLNet.Tests;

/// <summary>A data view's rows become examples: features as inputs, the label as the target its type makes.</summary>
public sealed class DataViewDatasetsTests
{
    private static readonly MLContext Ml = new(seed: 1);

    [Fact]
    public void AKeyLabelBecomesOneHotTargetsInKeyOrder()
    {
        var rows = Synthetic.Rows(30, seed: 9);
        var data = Synthetic.Data(Ml, rows).ToDataset<float>();
        var keys = Synthetic.Data(Ml, rows).GetColumn<uint>("Label").ToArray();
        Assert.Equal((30, Synthetic.Width, 3), (data.Count, data.InputWidth, data.TargetWidth));
        Assert.Equal(keys.Select(k => (int)k - 1), data.GetLabels());
        Assert.Equal(rows.Select(r => r.Features), data.GetInputs());
    }

    [Fact]
    public void ABooleanLabelBecomesOneZeroOrOneTarget()
    {
        var rows = Synthetic.Rows(30, seed: 10);
        var data = Synthetic.Data(Ml, rows).ToDataset<double>(labelColumnName: "Flag");
        Assert.Equal(1, data.TargetWidth);
        Assert.Equal(rows.Select(r => r.Flag ? 1.0 : 0.0), data.GetTargets().Select(t => t[0]));
    }

    [Fact]
    public void ANumberLabelIsTheTargetItself()
    {
        var rows = Synthetic.Rows(30, seed: 11);
        var data = Synthetic.Data(Ml, rows).ToDataset<double>(labelColumnName: "Target");
        Assert.Equal(rows.Select(r => (double)r.Target), data.GetTargets().Select(t => t[0]));
        Assert.Equal(rows.Select(r => r.Features.Select(v => (double)v)), data.GetInputs());
    }

    [Fact]
    public void SparseFeaturesAreReadWithTheirZeros()
    {
        // One-hot encoding writes sparse vectors.
        var view = Ml.Data.LoadFromEnumerable(new[] { "b", "a", "c", "a" }.Select((c, i) => new { Colour = c, Target = (float)i }).ToList());
        var encoded = Ml.Transforms.Categorical.OneHotEncoding("Features", "Colour").Fit(view).Transform(view);
        var data = encoded.ToDataset<float>(labelColumnName: "Target");
        Assert.Equal(new[] { new[] { 1f, 0, 0 }, new[] { 0f, 1, 0 }, new[] { 0f, 0, 1 }, new[] { 0f, 1, 0 } }, data.GetInputs());
    }

    [Fact]
    public void AnEmptyDataViewIsRefused()
    {
        var empty = Ml.Data.FilterRowsByColumn(Synthetic.Data(Ml, Synthetic.Rows(5, seed: 12)), "Target", lowerBound: 100, upperBound: 101);
        var error = Assert.Throws<ArgumentException>(() => empty.ToDataset<float>());
        Assert.Contains("no rows", error.Message);
    }
}
