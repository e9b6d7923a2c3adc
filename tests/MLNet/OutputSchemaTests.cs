using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace FunctionalBackprop.MLNet.Tests;

/// <summary>
/// The trained transformer writes the columns ML.NET's evaluators read, with their types, and the
/// trainer says so before training: its GetOutputSchema gives the same columns, kinds and types.
/// </summary>
public sealed class OutputSchemaTests
{
    private static readonly MLContext Ml = new(seed: 1);
    private static readonly IDataView Data = Synthetic.Data(Ml, Synthetic.Rows(60, seed: 5));

    public static TheoryData<string, string, string> Columns() => new()
    {
        { "multiclass", "Score", "Vector<Single, 1, 3>" },
        { "multiclass", "PredictedLabel", "Key<UInt32, 0-2>" },
        { "binary", "Score", "Single" },
        { "binary", "Probability", "Single" },
        { "binary", "PredictedLabel", "Boolean" },
        { "regression", "Score", "Single" },
    };

    [Theory]
    [MemberData(nameof(Columns))]
    public void TheTransformerWritesTheColumnsOfItsTask(string task, string column, string type)
    {
        using var model = Synthetic.Trainer(Ml, task, Synthetic.Quick(1)).Fit(Data);
        var schema = model.Transform(Data).Schema;
        Assert.Equal(type, schema[column].Type.ToString());
    }

    [Theory]
    [MemberData(nameof(Columns))]
    public void GetOutputSchemaGivesTheSameColumnBeforeTraining(string task, string column, string type)
    {
        var trainer = Synthetic.Trainer(Ml, task, Synthetic.Quick(1));
        var before = trainer.GetOutputSchema(Shapes.Of(Data)).Single(c => c.Name == column);
        using var model = trainer.Fit(Data);
        var after = Shapes.Of(model.Transform(Data)).Single(c => c.Name == column);
        Assert.Equal((after.Kind, after.ItemType, after.IsKey), (before.Kind, before.ItemType, before.IsKey));
        Assert.Equal(after.Annotations.Select(a => (a.Name, a.Kind, a.ItemType)), before.Annotations.Select(a => (a.Name, a.Kind, a.ItemType)));
        _ = type;
    }

    [Theory]
    [InlineData("multiclass")]
    [InlineData("binary")]
    [InlineData("regression")]
    public void NoColumnOfTheTrainersOwnIsLeftAndEveryInputColumnStays(string task)
    {
        using var model = Synthetic.Trainer(Ml, task, Synthetic.Quick(1)).Fit(Data);
        var output = model.Transform(Data).Schema.Where(c => !c.IsHidden).Select(c => c.Name).ToList();
        Assert.DoesNotContain(output, name => name.StartsWith("FunctionalBackprop.", System.StringComparison.Ordinal));
        Assert.All(Data.Schema.Where(c => !c.IsHidden), c => Assert.Contains(c.Name, output));
    }

    [Fact]
    public void PredictedLabelIsTheLabelsKeyWithItsValues()
    {
        using var model = Synthetic.Trainer(Ml, "multiclass", Synthetic.Quick(20)).Fit(Data);
        var scored = model.Transform(Data);
        var labelValues = default(VBuffer<System.ReadOnlyMemory<char>>);
        Data.Schema["Label"].GetKeyValues(ref labelValues);
        var predictedValues = default(VBuffer<System.ReadOnlyMemory<char>>);
        scored.Schema["PredictedLabel"].GetKeyValues(ref predictedValues);
        Assert.Equal(labelValues.DenseValues().Select(v => v.ToString()), predictedValues.DenseValues().Select(v => v.ToString()));

        // MapKeyToValue gives back the class names the network chose, key k being class k − 1.
        var named = Ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel").Fit(scored).Transform(scored);
        var names = labelValues.DenseValues().Select(v => v.ToString()).ToArray();
        var expected = model.Network.Classify(Data.ToDataset<float>()).Select(k => names[k]);
        Assert.Equal(expected, named.GetColumn<string>("PredictedClass"));
    }
}
