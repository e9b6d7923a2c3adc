using System;
using System.IO;
using System.Linq;
using FunctionalBackprop.Build;
using Orleans;
using FunctionalBackprop.Testing;
using Xunit;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>
/// README.md's example of "Training on several machines" (which the package README shows too) is
/// this code, and it runs on the test cluster: it reads the bundled digits by the path relative to
/// the repository, as README's commands run there.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ReadmeTests(ClusterFixture fixture)
{
    private (FitResult<double> Result, MnistData<double> Digits) Example()
    {
        IClusterClient client = fixture.Client;
        // README example begins
        var digits = Mnist.Load<double>("data/mnist-10k");
        var network = NeuralNetwork.Create(inputWidth: 784)
            .Dense(30, Activation.Sigmoid)
            .Dense(10, Activation.Sigmoid)
            .Build(seed: 1);
        var trainer = new DistributedTrainer(client, new DistributedTrainingOptions { CallTimeout = TimeSpan.FromSeconds(30) });
        var result = trainer.Fit(network, digits.Training, new FitOptions
        {
            Epochs = 3,
            BatchSize = 100,
            Shards = 3,                                    // 0 (the default): one shard per live silo
            Loss = Loss.Quadratic,
            Optimizer = Optimizer.Sgd(3.0),
        });
        Console.WriteLine($"test accuracy {result.Network.EvaluateClassifier(digits.Test).Accuracy:P2}");
        // README example ends
        return (result, digits);
    }

    [Fact]
    public void TheExampleTrainsOnTheClusterAsFitDoesInOneProcess()
    {
        var previous = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(Digits.Root());
        try
        {
            var (result, digits) = Example();
            var local = NeuralNetwork.Create(inputWidth: 784).Dense(30, Activation.Sigmoid).Dense(10, Activation.Sigmoid).Build(seed: 1)
                .Fit(digits.Training, new FitOptions { Epochs = 3, BatchSize = 100, Shards = 3, Loss = Loss.Quadratic, Optimizer = Optimizer.Sgd(3.0) });

            Assert.Equal(Runs.Bytes(local.Network), Runs.Bytes(result.Network));
            var accuracy = result.Network.EvaluateClassifier(digits.Test).Accuracy;
            Assert.True(accuracy >= 0.88, $"test accuracy {accuracy:P2} after three epochs");
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
        }
    }

    [Fact]
    public void TheReadmeShowsThisCode()
    {
        var source = File.ReadAllText(Path.Combine(Digits.Root(), "tests", "Orleans", "ReadmeTests.cs"));
        var region = source.Split("// README example begins\n")[1].Split("// README example ends")[0];
        var block = ReadmeSections.Block(File.ReadAllText(Path.Combine(Digits.Root(), "README.md")), "Training on several machines", "csharp");
        Assert.False(string.IsNullOrWhiteSpace(block), "README.md's section \"Training on several machines\" has no ```csharp block.");
        Assert.Equal(Code.Normalise(region), Code.Normalise(block!));
    }

}
