using System;
using System.IO;
using System.Linq;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>README.md's C# quick start is this code, and it runs.</summary>
public class QuickStartTests
{
    private static int[] QuickStart()
    {
        // quick start begins
        // XOR: two inputs, a hidden layer of three sigmoid units, one sigmoid output.
        double[][] inputs = { new[] { 0.0, 0.0 }, new[] { 0.0, 1.0 }, new[] { 1.0, 0.0 }, new[] { 1.0, 1.0 } };
        int[] labels = { 0, 1, 1, 0 };

        var network = NeuralNetwork.Create(inputWidth: 2)
            .Dense(3, Activation.Sigmoid, Initializer.StandardNormal)
            .Dense(1, Activation.Sigmoid, Initializer.StandardNormal)
            .Build(seed: 5);

        var result = network.Fit(inputs, labels, new FitOptions
        {
            Epochs = 2000,
            BatchSize = 4,
            Loss = Loss.BinaryCrossEntropy,
            Optimizer = Optimizer.Adam(0.05),
        });

        Console.WriteLine($"{result.History[^1].TrainingLoss:F4}: {string.Join(", ", result.Network.Classify(inputs))}");
        var path = Path.Combine(Path.GetTempPath(), "xor.fbnn");
        result.Network.Save(path);
        var loaded = NeuralNetwork<double>.Load(path);
        return loaded.Classify(inputs);
        // quick start ends
    }

    private static string Normalise(string code) =>
        string.Join("\n", code.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0 && line != "return loaded.Classify(inputs);"));

    [Fact]
    public void TheQuickStartLearnsXor() => Assert.Equal(new[] { 0, 1, 1, 0 }, QuickStart());

    [Fact]
    public void TheReadmeShowsThisQuickStart()
    {
        var block = Repository.ReadmeCSharp();
        var code = Repository.MarkedCode(Path.Combine("Facade", "QuickStartTests.cs"), "quick start");
        Assert.False(string.IsNullOrWhiteSpace(block), "README.md has no ```csharp block.");
        Assert.Equal(Normalise(code), Normalise(block.Replace("using FunctionalBackprop;", string.Empty)));
    }
}
