using System;
using System.IO;
using System.Linq;
using Xunit;

namespace FunctionalBackprop.Tests;

/// <summary>
/// The main job, run as README.md gives it (the MnistTrainer program on the bundled digits): the
/// chapter 1 defaults reach what Nielsen's network.py reaches on the same split (91.9% final,
/// docs/benchmarks.md), the documented better configuration at least 96%, LeNet-5 (--network
/// lenet) at least 98.5% with README's C# training the same network; --dropout puts a
/// dropout layer after each hidden layer and refuses a rate outside [0, 1).
/// </summary>
public sealed class MainJobTests : IDisposable
{
    private readonly string output = Directory.CreateTempSubdirectory("fbp-mainjob-").FullName;

    public void Dispose() => Directory.Delete(output, recursive: true);

    /// <summary>Runs the trainer with the arguments and returns its final test accuracy and its output.</summary>
    private (double Accuracy, string Output) Train(string arguments)
    {
        var (accuracy, _, text) = MainJob.Train(output, arguments);
        return (accuracy, text);
    }

    [Fact]
    public void TheChapterOneDefaultsReachNetworkPy()
    {
        var (accuracy, text) = Train(string.Empty);
        Assert.True(accuracy >= 0.919, $"final accuracy {accuracy:P2} is below network.py's 91.9%:\n{text}");
        Assert.Matches(@"Epoch 30: \d+ / 2000", text);
        Assert.True(File.Exists(Path.Combine(output, "model.fbnn")) && File.Exists(Path.Combine(output, "curve.png")));
    }

    [Fact]
    public void TheDocumentedBetterConfigurationReaches96Percent()
    {
        var (accuracy, text) = Train("--hidden 100 --activation relu --init he --loss cross-entropy --optimizer heavy-ball --eta 0.05 --momentum 0.9 --l2 5 --schedule cosine");
        Assert.True(accuracy >= 0.96, $"final accuracy {accuracy:P2} is below 96%:\n{text}");
    }

    [Fact]
    public void DropoutAfterEachHiddenLayerTrainsAndIsSavedWithTheModel()
    {
        var (accuracy, correct, text) = MainJob.Train(output, "--hidden 100,30 --activation relu --init he --loss cross-entropy --optimizer heavy-ball --eta 0.01 --momentum 0.9 --epochs 3 --dropout 0.5");
        // About 91% here (three epochs, with half the hidden units dropped at each step): far from chance's 10%.
        Assert.True(accuracy >= 0.85, $"final accuracy {accuracy:P2} after 3 epochs with dropout 0.5 is below 85%:\n{text}");
        Assert.Contains("784-100-30-10 relu, dropout 0.5, cross-entropy", text);

        var trained = NeuralNetwork<double>.Load(Path.Combine(output, "model.fbnn"));
        Assert.Equal(new[] { LayerKind.Dense, LayerKind.Dropout, LayerKind.Dense, LayerKind.Dropout, LayerKind.Dense }, trained.Layers.Select(l => l.Kind));
        Assert.All(trained.Layers.Where(l => l.Kind == LayerKind.Dropout), l => Assert.Equal("dropout(p = 0.5)", l.Description));

        // The accuracy reported is the saved network's in inference, where dropout keeps every unit.
        var digits = Mnist.Load<double>(Path.Combine(Repository.Root(), "data", "mnist-10k"));
        Assert.Equal(correct, (int)Math.Round(trained.EvaluateClassifier(digits.Test).Accuracy * digits.Test.Count));
    }

    [Fact]
    public void LeNetReaches98Point5PercentAndReadmesCSharpTrainsTheSameNetworkBitForBit()
    {
        var (accuracy, correct, text) = MainJob.Train(output, "--network lenet");
        Assert.True(accuracy >= 0.985, $"LeNet-5's final accuracy {accuracy:P2} is below 98.5%:\n{text}");
        Assert.Contains("LeNet-5 relu, dropout 0.3, shifted by 1 pixel, cross-entropy", text);
        Assert.Contains("8000 training (40000 with their shifted copies) and 2000 test digits", text);
        Assert.Matches(@"Epoch 6: \d+ / 2000", text);

        // README's C# gives the network the command saved, bit for bit (one file, byte for byte).
        var result = Facade.QuickStartTests.LeNetFromRoot();
        var fromCSharp = Path.Combine(output, "csharp.fbnn");
        result.Network.Save(fromCSharp);
        Assert.Equal(File.ReadAllBytes(Path.Combine(output, "model.fbnn")), File.ReadAllBytes(fromCSharp));
        var digits = Mnist.Load<float>(Path.Combine(Repository.Root(), "data", "mnist-10k"));
        Assert.Equal(correct, (int)Math.Round(result.Network.EvaluateClassifier(digits.Test).Accuracy * digits.Test.Count));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("1.5")]
    [InlineData("-0.1")]
    [InlineData("NaN")]
    public void ADropoutRateOutsideZeroToOneIsRefused(string rate)
    {
        var (code, text) = MainJob.Run(output, $"--epochs 1 --dropout {rate}");
        Assert.True(code == 2, $"--dropout {rate} exited with {code}, not 2 (an option error):\n{text}");
        Assert.Contains($"error: --dropout must lie in [0, 1), got {rate}.", text);
        Assert.DoesNotContain("Epoch 1", text);
        Assert.False(File.Exists(Path.Combine(output, "model.fbnn")), "a refused run saved a model");
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("28")]
    public void AShiftOutsideTheDigitsIsRefused(string pixels)
    {
        var (code, text) = MainJob.Run(output, $"--network lenet --shift {pixels}");
        Assert.True(code == 2, $"--shift {pixels} exited with {code}, not 2 (an option error):\n{text}");
        Assert.Contains($"error: --shift must lie in [0, 27] (fewer pixels than the digits' 28 rows), got {pixels}.", text);
        Assert.DoesNotContain("Epoch 1", text);
    }

    [Fact]
    public void TheHelpDescribesDropout()
    {
        var (code, text) = MainJob.Run(output, "--help");
        Assert.Equal(0, code);
        Assert.Matches(@"--dropout <dropout>\s+Dropout rate after each hidden layer", text);
    }
}
