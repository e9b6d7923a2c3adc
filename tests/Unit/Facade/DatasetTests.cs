using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>A data set can be looked into and transformed: counts, arrays and spans, labels and back, slices, shuffles, splits, maps.</summary>
public class DatasetTests
{
    /// <summary>Ten examples: input (j, −j, j²), label j mod 3, so every example is recognisable.</summary>
    private static Dataset<double> Ten() =>
        Dataset<double>.FromLabels(Enumerable.Range(0, 10).Select(j => new[] { j, -j, (double)j * j }).ToArray(), Enumerable.Range(0, 10).Select(j => j % 3).ToList(), 3);

    private static double[] Firsts(Dataset<double> data) => data.GetInputs().Select(x => x[0]).ToArray();

    [Fact]
    public void InputsAndTargetsComeBackAsArraysAndSpans()
    {
        var data = Ten();
        Assert.Equal(10, data.Count);
        Assert.Equal(3, data.InputWidth);
        Assert.Equal(3, data.TargetWidth);
        Assert.Equal(new[] { 4.0, -4.0, 16.0 }, data.GetInput(4));
        Assert.Equal(data.GetInput(4), data.GetInputSpan(4).ToArray());
        Assert.Equal(new[] { 0.0, 1.0, 0.0 }, data.GetTarget(4));
        Assert.Equal(data.GetTarget(4), data.GetTargetSpan(4).ToArray());
        Assert.Equal(Enumerable.Range(0, 10).Select(data.GetInput), data.GetInputs());
        Assert.Equal(Enumerable.Range(0, 10).Select(data.GetTarget), data.GetTargets());
    }

    [Fact]
    public void TheArraysHandedOutAreCopies()
    {
        var data = Ten();
        data.GetInputs()[2][0] = 99;
        data.GetInput(2)[0] = 99;
        Assert.Equal(2.0, data.GetInputSpan(2)[0]);
    }

    [Fact]
    public void LabelsGoOneHotAndComeBack()
    {
        var labels = new[] { 2, 0, 1, 1 };
        var inputs = labels.Select(l => new[] { (double)l }).ToArray();
        var data = Dataset<double>.FromLabels(inputs, labels, 3);
        Assert.Equal(new[] { new[] { 0.0, 0, 1 }, new[] { 1.0, 0, 0 }, new[] { 0.0, 1, 0 }, new[] { 0.0, 1, 0 } }, data.GetTargets());
        Assert.Equal(labels, data.GetLabels());
        var binary = Dataset<double>.FromLabels(inputs, new[] { 1, 0, 1, 1 }, 2, singleOutput: true);
        Assert.Equal(new[] { 1, 0, 1, 1 }, binary.GetLabels());
        Assert.Equal(1, binary.TargetWidth);
    }

    [Fact]
    public void TakeSkipAndSliceKeepTheOrder()
    {
        var data = Ten();
        Assert.Equal(new[] { 0.0, 1, 2 }, Firsts(data.Take(3)));
        Assert.Equal(new[] { 7.0, 8, 9 }, Firsts(data.Skip(7)));
        Assert.Equal(new[] { 4.0, 5 }, Firsts(data.Slice(4, 2)));
        Assert.Equal(new[] { 1, 2 }, data.Slice(4, 2).GetLabels());
    }

    [Fact]
    public void ShuffleIsAPermutationFixedByTheSeedAndTargetsFollowTheirInputs()
    {
        var data = Ten();
        var shuffled = data.Shuffle(seed: 3);
        Assert.Equal(Firsts(shuffled), Firsts(data.Shuffle(seed: 3)));
        Assert.NotEqual(Firsts(data), Firsts(shuffled));
        Assert.NotEqual(Firsts(shuffled), Firsts(data.Shuffle(seed: 4)));
        Assert.Equal(Firsts(data), Firsts(shuffled).Order());
        Assert.All(Enumerable.Range(0, 10), j => Assert.Equal((int)shuffled.GetInput(j)[0] % 3, shuffled.GetLabels()[j]));
    }

    [Theory]
    [InlineData(0.8, 8)]
    [InlineData(0.25, 3)]
    [InlineData(0.05, 1)]
    public void SplitShufflesAndGivesTheFirstPartTheFraction(double fraction, int first)
    {
        var data = Ten();
        var (training, test) = data.Split(fraction, seed: 1);
        Assert.Equal(first, training.Count);
        Assert.Equal(10 - first, test.Count);
        Assert.Equal(Firsts(data.Shuffle(seed: 1)), Firsts(training).Concat(Firsts(test)));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(0.01)]
    [InlineData(0.99)]
    [InlineData(double.NaN)]
    public void ASplitThatLeavesAPartEmptyIsRefused(double fraction) =>
        Assert.Equal("fraction", Assert.Throws<ArgumentOutOfRangeException>(() => Ten().Split(fraction, seed: 1)).ParamName);

    [Fact]
    public void MapInputsTransformsEachInputAndKeepsTheTargets()
    {
        var data = Ten();
        var mapped = data.MapInputs(x => new[] { x[0] + x[1], x[2] });
        Assert.Equal(2, mapped.InputWidth);
        Assert.Equal(new[] { 0.0, 49.0 }, mapped.GetInput(7));
        Assert.Equal(data.GetTargets(), mapped.GetTargets());
        Assert.Equal(new[] { 0.0, 0, 1 }, data.MapTargets(y => y.Reverse().ToArray()).GetTarget(0));
    }

    [Fact]
    public void AMapThatBreaksTheShapeOrTheValuesIsRefusedNamingTheExample()
    {
        var data = Ten();
        Assert.Contains("map(example 1) has 1 values but map(example 0) has 2", Assert.Throws<ArgumentException>(() => data.MapInputs(x => x[0] == 1 ? new[] { 0.0 } : new[] { 0.0, 0.0 })).Message);
        Assert.Contains("map(example 3)[0] is NaN", Assert.Throws<ArgumentException>(() => data.MapInputs(x => new[] { x[0] == 3 ? double.NaN : 0 })).Message);
    }

    [Fact]
    public void IndicesOutsideTheExamplesAreRefusedUnderTheirNames()
    {
        var data = Ten();
        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => data.GetInput(10)).ParamName);
        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => data.GetTargetSpan(-1).ToArray()).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => data.Slice(10, 1)).ParamName);
        Assert.Equal("start", Assert.Throws<ArgumentOutOfRangeException>(() => data.Slice(11, 0)).ParamName);
    }

    [Fact]
    public void FitAndEvaluateTakeTheLabelsAListHolds()
    {
        var inputs = new[] { new[] { 0.0, 0.0 }, new[] { 0.0, 1.0 }, new[] { 1.0, 0.0 }, new[] { 1.0, 1.0 } };
        IReadOnlyList<int> labels = new List<int> { 0, 1, 1, 0 };
        var network = NeuralNetwork.Create(2).Dense(3, Activation.Tanh).Dense(2, Activation.Softmax).Build(seed: 2);
        var fromList = network.Fit(inputs, labels, new FitOptions { Epochs = 3 }).Network;
        var fromArray = network.Fit(inputs, labels.ToArray(), new FitOptions { Epochs = 3 }).Network;
        Assert.Equal(fromArray.GetWeights(0), fromList.GetWeights(0));
        Assert.Equal(fromArray.Evaluate(inputs, labels.ToArray()).Loss, fromList.Evaluate(inputs, labels).Loss);
    }
    /// <summary>Two 1 × 3 × 3 images, 1 … 9 and 11 … 19 row by row, labelled 0 and 1 of 2.</summary>
    private static Dataset<double> TwoImages() =>
        Dataset<double>.FromImages(
            new[] { 0, 10 }.Select(offset =>
            {
                var image = new double[1, 3, 3];
                for (var k = 0; k < 9; k++)
                {
                    image[0, k / 3, k % 3] = offset + k + 1;
                }

                return image;
            }).ToList(),
            new[] { 0, 1 },
            2);

    [Fact]
    public void ShiftedImagesFollowTheirImageDownUpRightAndLeftWithItsTarget()
    {
        var data = TwoImages();
        var shifted = data.WithShiftedImages();
        Assert.Equal(10, shifted.Count);
        Assert.Equal(data.InputImage, shifted.InputImage);
        Assert.Equal(new[] { 0, 0, 0, 0, 0, 1, 1, 1, 1, 1 }, shifted.GetLabels());
        Assert.Equal(data.GetInput(1), shifted.GetInput(5));
        Assert.Equal(new double[] { 0, 0, 0, 1, 2, 3, 4, 5, 6 }, shifted.GetInput(1));     // down: row 0 moved in as zeros
        Assert.Equal(new double[] { 4, 5, 6, 7, 8, 9, 0, 0, 0 }, shifted.GetInput(2));     // up
        Assert.Equal(new double[] { 0, 1, 2, 0, 4, 5, 0, 7, 8 }, shifted.GetInput(3));     // right
        Assert.Equal(new double[] { 2, 3, 0, 5, 6, 0, 8, 9, 0 }, shifted.GetInput(4));     // left
        Assert.Equal(new double[] { 0, 0, 0, 11, 12, 13, 14, 15, 16 }, shifted.GetInput(6));
        Assert.Equal(new double[] { 0, 0, 1, 0, 0, 4, 0, 0, 7 }, data.WithShiftedImages(2).GetInput(3));
    }

    [Fact]
    public void OnlyImagesAreShiftedAndOnlyByLessThanTheirSize()
    {
        var vectors = Assert.Throws<InvalidOperationException>(() => Ten().WithShiftedImages());
        Assert.Contains("vectors of 3 values", vectors.Message);
        foreach (var pixels in new[] { 0, -1, 3 })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => TwoImages().WithShiftedImages(pixels));
            Assert.Equal("pixels", e.ParamName);
            Assert.Contains("less than the 1×3×3 images' height and width", e.Message);
        }
    }
}
