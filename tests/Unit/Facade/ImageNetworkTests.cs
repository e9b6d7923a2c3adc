using System;
using System.IO;
using System.Linq;
using FunctionalBackprop.Testing;
using Xunit;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>
/// Networks on images through the facade: LeNet built from C# is the core's LeNet bit for bit;
/// every setting out of range is refused naming its parameter; images go in C-H-W order and a data
/// set of another image shape is refused naming both shapes; convolution, pooling and batch
/// normalisation save, load and train reproducibly.
/// </summary>
public sealed class ImageNetworkTests
{
    private static NetworkBuilder LeNet() =>
        NeuralNetwork.Create(channels: 1, height: 28, width: 28)
            .Conv2D(6, kernel: 5, padding: 2, activation: Activation.ReLU)
            .MaxPool2D(2)
            .Conv2D(16, kernel: 5, activation: Activation.ReLU)
            .MaxPool2D(2)
            .Flatten()
            .Dense(120, Activation.ReLU)
            .Dense(84, Activation.ReLU)
            .Dense(10, Activation.Softmax);

    /// <summary>A few images of <paramref name="shape"/> with values from a formula, and their labels j mod 3.</summary>
    private static Dataset<double> Images(ImageShape shape, int count) =>
        Dataset<double>.FromImages(
            Enumerable.Range(0, count).Select(j =>
            {
                var image = new double[shape.Channels, shape.Height, shape.Width];
                for (var c = 0; c < shape.Channels; c++)
                {
                    for (var y = 0; y < shape.Height; y++)
                    {
                        for (var x = 0; x < shape.Width; x++)
                        {
                            image[c, y, x] = Math.Sin(j + (3.0 * c) + (0.7 * y) - (1.3 * x));
                        }
                    }
                }

                return image;
            }).ToArray(),
            Enumerable.Range(0, count).Select(j => j % 3).ToArray(),
            classCount: 3);

    [Fact]
    public void LeNetFromCSharpIsTheCoresLeNetBitForBit()
    {
        var network = LeNet().Build<float>(seed: 7);
        var lenet = Core.Architectures.lenet5(Core.Activation.ReLU, null);
        var core = Core.Network.init<float>(7UL, lenet.Item1, lenet.Item2);
        Assert.Equal(Core.Parameters.toArray(core).Select(BitConverter.SingleToInt32Bits), Core.Parameters.toArray(network.CoreNetwork).Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(new ImageShape(1, 28, 28), network.InputImage);
        Assert.Equal(784, network.InputWidth);
        Assert.Equal(61706, network.ParameterCount);
        Assert.Equal(
            new[] { LayerKind.Conv2D, LayerKind.MaxPool2D, LayerKind.Conv2D, LayerKind.MaxPool2D, LayerKind.Flatten, LayerKind.Dense, LayerKind.Dense, LayerKind.Dense },
            network.Layers.Select(l => l.Kind));
        Assert.Equal(new ImageShape(6, 28, 28), network.Layers[0].OutputImage);
        Assert.Equal(new ImageShape(16, 5, 5), network.Layers[3].OutputImage);
        Assert.Null(network.Layers[4].OutputImage);
        Assert.Equal(400, network.Layers[4].Units);
        Assert.Equal("conv 1→6 5×5 stride 1×1 padding 2×2 relu", network.Layers[0].Description);
        Assert.Equal("1×28×28-6×28×28-6×14×14-16×10×10-16×5×5-400-120-84-10 builder", LeNet().ToString());
    }

    public static TheoryData<string, Func<NetworkBuilder>> BadSettings() => new()
    {
        { "filters", () => NeuralNetwork.Create(1, 8, 8).Conv2D(0, kernel: 3) },
        { "kernel", () => NeuralNetwork.Create(1, 8, 8).Conv2D(4, kernel: new Size2D(3, 0)) },
        { "stride", () => NeuralNetwork.Create(1, 8, 8).Conv2D(4, kernel: 3, stride: 0) },
        { "padding", () => NeuralNetwork.Create(1, 8, 8).Conv2D(4, kernel: 3, padding: -1) },
        { "kernel", () => NeuralNetwork.Create(1, 8, 8).MaxPool2D(0) },
        { "stride", () => NeuralNetwork.Create(1, 8, 8).AvgPool2D(2, stride: new Size2D(1, 0)) },
        { "padding", () => NeuralNetwork.Create(1, 8, 8).MaxPool2D(2, padding: 2) },
        { "momentum", () => NeuralNetwork.Create(1, 8, 8).BatchNorm(momentum: 1.5) },
        { "epsilon", () => NeuralNetwork.Create(1, 8, 8).BatchNorm(epsilon: 0) },
        { "initializer", () => NeuralNetwork.Create(1, 8, 8).Conv2D(4, kernel: 3, initializer: (Initializer)99) },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void EverySettingOutOfRangeIsRefusedNamingItsParameter(string parameter, Func<NetworkBuilder> add)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(add);
        Assert.Equal(parameter, e.ParamName);
    }

    [Fact]
    public void AnImageShapeWithAZeroIsRefusedAtBuildNamingItsParameter()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => NeuralNetwork.Create(1, 0, 28).Dense(10).Build(seed: 1));
        Assert.Equal("height", e.ParamName);
    }

    [Fact]
    public void LayersThatDoNotFitTheirInputAreRefusedAtBuildNamingTheLayerAndTheShape()
    {
        var onVector = Assert.Throws<ArgumentException>(() => NeuralNetwork.Create(784).Conv2D(6, kernel: 5).Build(seed: 1));
        Assert.Contains("Layer 1", onVector.Message);
        Assert.Contains("vector of 784 values", onVector.Message);
        var tooSmall = Assert.Throws<ArgumentException>(() => NeuralNetwork.Create(3, 4, 4).MaxPool2D(2).Conv2D(2, kernel: 3).Build(seed: 1));
        Assert.Contains("Layer 2", tooSmall.Message);
        Assert.Contains("3×2×2", tooSmall.Message);
        var afterFlatten = Assert.Throws<ArgumentException>(() => NeuralNetwork.Create(1, 8, 8).Flatten().MaxPool2D(2).Build(seed: 1));
        Assert.Contains("a Flatten turns images into vectors", afterFlatten.Message);
    }

    [Fact]
    public void ImagesAreStoredChannelByChannelRowByRow()
    {
        var image = new float[2, 3, 4];
        for (var c = 0; c < 2; c++)
        {
            for (var y = 0; y < 3; y++)
            {
                for (var x = 0; x < 4; x++)
                {
                    image[c, y, x] = (100 * c) + (10 * y) + x;
                }
            }
        }

        var data = Dataset<float>.FromImages(new[] { image }, new[] { new float[] { 1 } });
        Assert.Equal(new ImageShape(2, 3, 4), data.InputImage);
        Assert.Equal(24, data.InputWidth);
        Assert.Equal(123f, data.GetInput(0)[(((1 * 3) + 2) * 4) + 3]);
        Assert.Equal(new ImageShape(2, 3, 4), data.Take(1).Shuffle(3).InputImage);
        Assert.Equal("1 example, 2×3×4 images → 1 target", data.ToString());
    }

    [Fact]
    public void BadImagesAreRefusedNamingTheImageAndTheValue()
    {
        var ragged = Assert.Throws<ArgumentException>(() => Dataset<double>.FromImages(new[] { new double[1, 2, 2], new double[1, 2, 3] }, new[] { 0, 1 }, classCount: 2));
        Assert.Contains("images[1] is 1×2×3 but images[0] is 1×2×2", ragged.Message);
        var bad = new double[2, 2, 2];
        bad[1, 0, 1] = double.NaN;
        var nan = Assert.Throws<ArgumentException>(() => Dataset<double>.FromImages(new[] { new double[2, 2, 2], bad }, new[] { 0, 1 }, classCount: 2));
        Assert.Contains("images[1][1, 0, 1] is NaN", nan.Message);
        Assert.Equal("images", nan.ParamName);
    }

    [Fact]
    public void ADataSetOfAnotherImageShapeIsRefusedNamingBothShapes()
    {
        var network = NeuralNetwork.Create(2, 3, 4).Conv2D(2, kernel: 2).Flatten().Dense(3, Activation.Softmax).Build(seed: 1);
        var transposed = Images(new ImageShape(2, 4, 3), 6);
        var e = Assert.Throws<ArgumentException>(() => network.Fit(transposed, new FitOptions<double> { Epochs = 1 }));
        Assert.Contains("2×3×4 images", e.Message);
        Assert.Contains("2×4×3 images", e.Message);
        Assert.Throws<ArgumentException>(() => network.Predict(transposed));
        var vectors = Dataset<double>.FromArrays(transposed.GetInputs(), transposed.GetTargets());
        Assert.Equal(6, network.Predict(vectors).Length);
        var wrongWidth = Assert.Throws<ArgumentException>(() => network.Predict(new[] { new double[23] }));
        Assert.Contains("takes 2×3×4 images (24 values each", wrongWidth.Message);
    }

    [Fact]
    public void ConvolutionPoolingAndBatchNormalisationTrainSaveAndLoadBitForBit()
    {
        var shape = new ImageShape(2, 6, 5);
        var data = Images(shape, 12);
        var network = NeuralNetwork.Create(2, 6, 5)
            .Conv2D(4, kernel: new Size2D(3, 2), padding: new Size2D(1, 0))
            .BatchNorm()
            .Activation(Activation.Tanh)
            .AvgPool2D(2, stride: 1)
            .MaxPool2D(new Size2D(2, 1), padding: new Size2D(1, 0))
            .Flatten()
            .Dense(6, Activation.Tanh)
            .BatchNorm(momentum: 0.2)
            .Dense(3, Activation.Softmax)
            .Build(seed: 5);
        // Two shards of two examples: batch normalisation by each shard's own statistics.
        var options = new FitOptions<double> { Epochs = 3, BatchSize = 4, Seed = 9, Shards = 2 };
        var once = network.Fit(data, options).Network;
        var twice = network.Fit(data, options).Network;
        Assert.Equal(Bits.Of(once.Predict(data).SelectMany(p => p)), Bits.Of(twice.Predict(data).SelectMany(p => p)));
        Assert.NotEqual(Bits.Of(network.Predict(data).SelectMany(p => p)), Bits.Of(once.Predict(data).SelectMany(p => p)));

        var path = Path.Combine(Path.GetTempPath(), $"fbp-image-{Guid.NewGuid():N}.fbnn");
        try
        {
            once.Save(path);
            var loaded = NeuralNetwork<double>.Load(path);
            Assert.Equal(new ImageShape(2, 6, 5), loaded.InputImage);
            Assert.Equal(once.Layers.Select(l => l.Description), loaded.Layers.Select(l => l.Description));
            Assert.Equal(Bits.Of(once.Predict(data).SelectMany(p => p)), Bits.Of(loaded.Predict(data).SelectMany(p => p)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void MnistLoadsOneChannelImagesOf28By28()
    {
        var digits = Mnist.Load<float>(Path.Combine(RepositoryRoot.Path, "data", "mnist-10k"));
        Assert.Equal(new ImageShape(1, 28, 28), digits.Training.InputImage);
        Assert.Equal(new ImageShape(1, 28, 28), digits.Test.InputImage);
        Assert.Equal(784, digits.Training.InputWidth);
    }
}
