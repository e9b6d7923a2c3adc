using System;
using System.IO;
using System.Linq;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>
/// Scalers fitted on training inputs, applied to any inputs, and saved with the network, so that a
/// loaded network answers raw inputs exactly as the trained one did.
/// </summary>
public class ScalerTests
{
    /// <summary>Twelve examples of three features on very different scales (pixels, metres, a constant), two classes.</summary>
    private static Dataset<double> Raw() =>
        Dataset<double>.FromLabels(
            Enumerable.Range(0, 12).Select(j => new[] { 16.0 * (j % 5), 1000.0 + (37.5 * j), 3.0 }).ToArray(),
            Enumerable.Range(0, 12).Select(j => j % 5 > 2 ? 1 : 0).ToArray(),
            2);

    private static NeuralNetwork<T> Network<T>()
        where T : System.Numerics.IFloatingPointIeee754<T> =>
        NeuralNetwork.Create(3).Dense(4, Activation.Tanh).Dense(2, Activation.Softmax).Build<T>(seed: 9);

    private static long[] Bits<T>(T[][] values)
        where T : System.Numerics.IFloatingPointIeee754<T> =>
        values.SelectMany(v => v).Select(v => BitConverter.DoubleToInt64Bits(double.CreateTruncating(v))).ToArray();

    [Fact]
    public void AMinMaxScalerFittedOnTrainingDataMapsItOntoZeroToOne()
    {
        var scaler = Scaler.FitMinMax(Raw());
        Assert.Equal(ScalerKind.MinMax, scaler.Kind);
        Assert.Equal(new[] { 0.0, 1000.0, 3.0 }, scaler.Offsets);
        Assert.Equal(new[] { 64.0, 412.5, 1.0 }, scaler.Scales);
        var scaled = scaler.Transform(Raw());
        var columns = Enumerable.Range(0, 3).Select(i => scaled.GetInputs().Select(x => x[i]).ToArray()).ToArray();
        Assert.Equal(new[] { 0.0, 0.0, 0.0 }, columns.Select(c => c.Min()));
        Assert.Equal(new[] { 1.0, 1.0, 0.0 }, columns.Select(c => c.Max()));
        Assert.Equal(Raw().GetTargets(), scaled.GetTargets());
        // Inputs outside the training range go outside [0, 1]: the scaler is fitted once, applied as fitted.
        Assert.Equal(new[] { 2.0, -1.0, -2.0 }, scaler.Transform(new[] { 128.0, 587.5, 1.0 }.AsSpan()));
    }

    [Fact]
    public void AStandardScalerGivesTheTrainingFeaturesMeanZeroAndDeviationOne()
    {
        var scaled = Scaler.FitStandard(Raw()).Transform(Raw()).GetInputs();
        foreach (var i in new[] { 0, 1 })
        {
            var values = scaled.Select(x => x[i]).ToArray();
            Assert.Equal(0.0, values.Average(), 1e-14);
            Assert.Equal(1.0, Math.Sqrt(values.Average(v => v * v)), 1e-14);
        }

        Assert.All(scaled, x => Assert.Equal(0.0, x[2]));
    }

    [Fact]
    public void EveryShapeOfTransformAgrees()
    {
        var scaler = Scaler.FitStandard(Raw());
        var inputs = Raw().GetInputs();
        Assert.Equal(scaler.Transform(Raw()).GetInputs(), scaler.Transform(inputs));
        Assert.Equal(scaler.Transform(inputs)[5], scaler.Transform(inputs[5].AsSpan()));
        Assert.Equal(Scaler.FitStandard(inputs).Offsets, scaler.Offsets);
    }

    [Fact]
    public void ANetworkWithAScalerTakesRawInputsAsTheBareNetworkTakesScaledOnes()
    {
        var scaler = Scaler.FitMinMax(Raw());
        var bare = Network<double>();
        var scaling = bare.WithScaler(scaler);
        Assert.Same(scaler, scaling.Scaler);
        Assert.Null(bare.Scaler);
        Assert.Equal(Bits(bare.Predict(scaler.Transform(Raw()))), Bits(scaling.Predict(Raw())));
        Assert.Equal(bare.Classify(scaler.Transform(Raw())), scaling.Classify(Raw().GetInputs()));
        Assert.Equal(bare.Evaluate(scaler.Transform(Raw())).Loss, scaling.Evaluate(Raw()).Loss);
    }

    [Fact]
    public void TrainingOnRawDataThroughTheScalerEqualsTrainingOnScaledData()
    {
        var scaler = Scaler.FitStandard(Raw());
        var options = new FitOptions { Epochs = 20, BatchSize = 4, Seed = 2, ValidationData = Raw() };
        var throughScaler = Network<double>().WithScaler(scaler).Fit(Raw(), options);
        var onScaled = Network<double>().Fit(scaler.Transform(Raw()), options with { ValidationData = scaler.Transform(Raw()) });
        Assert.Same(scaler, throughScaler.Network.Scaler);
        Assert.Equal(onScaled.Network.GetWeights(0), throughScaler.Network.GetWeights(0));
        Assert.Equal(onScaled.History.Select(r => (r.TrainingLoss, r.ValidationLoss)), throughScaler.History.Select(r => (r.TrainingLoss, r.ValidationLoss)));
    }

    [Fact]
    public void APredictionOnRawInputsIsBitForBitTheSameAfterSaveAndLoad()
    {
        var trained = Network<double>().WithScaler(Scaler.FitStandard(Raw())).Fit(Raw(), new FitOptions { Epochs = 30, BatchSize = 3 }).Network;
        using var stream = new MemoryStream();
        trained.Save(stream);
        stream.Position = 0;
        var loaded = NeuralNetwork<double>.Load(stream);
        Assert.Equal(Bits(trained.Predict(Raw())), Bits(loaded.Predict(Raw())));
        Assert.Equal(trained.Scaler!.Kind, loaded.Scaler!.Kind);
        Assert.Equal(trained.Scaler.Offsets, loaded.Scaler.Offsets);
        Assert.Equal(trained.Scaler.Scales, loaded.Scaler.Scales);
        Assert.Equal(2, stream.ToArray()[4]);
    }

    [Fact]
    public void Float32NetworksKeepTheirScalerToo()
    {
        var raw = Dataset<float>.FromArrays(Raw().GetInputs().Select(x => x.Select(v => (float)v).ToArray()).ToArray(), Raw().GetTargets().Select(y => y.Select(v => (float)v).ToArray()).ToArray());
        var network = Network<float>().WithScaler(Scaler.FitMinMax(raw));
        using var stream = new MemoryStream();
        network.Save(stream);
        stream.Position = 0;
        Assert.Equal(Bits(network.Predict(raw)), Bits(NeuralNetwork<float>.Load(stream).Predict(raw)));
    }

    [Fact]
    public void ACheckpointKeepsTheScalerAndResumesExactly()
    {
        var options = new FitOptions { Epochs = 12, BatchSize = 5, Seed = 8 };
        var network = Network<double>().WithScaler(Scaler.FitMinMax(Raw()));
        var straight = network.Fit(Raw(), options);
        using var stream = new MemoryStream();
        network.Fit(Raw(), options with { Epochs = 5 }).Checkpoint.Save(stream);
        stream.Position = 0;
        var resumed = TrainingCheckpoint<double>.Load(stream).Resume(Raw(), options);
        Assert.NotNull(resumed.Network.Scaler);
        Assert.Equal(straight.Network.GetWeights(1), resumed.Network.GetWeights(1));
    }

    [Fact]
    public void AScalerOfAnotherWidthIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => NeuralNetwork.Create(2).Dense(1, Activation.Sigmoid).Build(1).WithScaler(Scaler.FitMinMax(Raw())));
        Assert.Equal("scaler", e.ParamName);
        Assert.Contains("inputs of 2 values", e.Message);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => Scaler.FitMinMax(Raw()).Transform(new[] { 1.0 }.AsSpan())).ParamName);
    }

    [Fact]
    public void ARawValueThatScalesBeyondTheRealTypeIsRefusedNamingTheEntry()
    {
        var narrow = Scaler.FitMinMax(new[] { new[] { 0f, 0f }, new[] { 1e-30f, 1f } });
        var network = NeuralNetwork.Create(2).Dense(1, Activation.Sigmoid).Build<float>(1).WithScaler(narrow);
        var e = Assert.Throws<ArgumentException>(() => network.Predict(new[] { new[] { 0f, 0f }, new[] { 1e30f, 0f } }));
        Assert.Equal("inputs", e.ParamName);
        Assert.Contains("inputs[1][0] is 1E+30", e.Message);
        Assert.Contains("Single", e.Message);
    }
}
