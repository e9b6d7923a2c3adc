using System;
using System.IO;
using System.Linq;
using FunctionalBackprop.Testing;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>
/// README.md's C# examples are this code, and it runs. Each region marked <c>// README "heading"
/// begins</c> … <c>ends</c> is the ```csharp block of the README section under that heading
/// (<see cref="Repository.ReadmeCSharp"/>), line for line after trimming. The examples read files by paths
/// relative to the repository, as README's commands run there, so these tests run from the
/// repository root, alone (they change the process's working directory).
/// </summary>
[Collection(ProcessWideSettings.Name)]
public class QuickStartTests
{
    private static int[] QuickStart()
    {
        // README "C# quick start" begins
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
        // README "C# quick start" ends
        return loaded.Classify(inputs);
    }

    private static (FitResult<double> Result, ClassificationResult Evaluation, Dataset<double> Test, int[] Predicted, NeuralNetwork<double> Loaded) YourOwnData()
    {
        // README "Your own data" begins
        // Numeric labels are read as numbers; the count makes any label outside 0 … 9 an error naming its line.
        var digits = CsvData.LoadClassification<double>("data/digits/digits.csv", labelColumn: "digit", classCount: 10);
        var training = digits.Data.Take(1400);                   // the first 1,400 rows to learn from
        var test = digits.Data.Skip(1400);                       // the other 397 to test on

        // Each pixel to mean 0 and deviation 1, fitted on the training rows only. The network keeps the
        // scaler: from here on it takes raw pixels, and saves the scaler with its weights.
        var scaler = Scaler.FitStandard(training);
        var network = NeuralNetwork.Create(inputWidth: 64)
            .Dense(64, Activation.ReLU)                          // He initialisation, the default for ReLU
            .Dense(10, Activation.Softmax)
            .Build(seed: 1)
            .WithScaler(scaler);

        // Softmax outputs: the loss defaults to cross-entropy and the optimizer to Adam (α = 0.001).
        var result = network.Fit(training, new FitOptions { Epochs = 50, BatchSize = 32, Seed = 1 }, TrainingProgress.ToConsole());

        var evaluation = result.Network.EvaluateClassifier(test);
        Console.WriteLine($"test accuracy {evaluation.Accuracy:P2}, loss {evaluation.Loss:F4}");

        var path = Path.Combine(Path.GetTempPath(), "digits.fbnn");
        result.Network.Save(path);
        var loaded = NeuralNetwork<double>.Load(path);
        int[] predicted = loaded.Classify(test);                 // raw pixels in, digits out
        // README "Your own data" ends
        return (result, evaluation, test, predicted, loaded);
    }

    private static (RegressionResult Evaluation, double[] Predicted, NeuralNetwork<double> Network, Dataset<double> Test) Regression()
    {
        // README "Regression" begins
        var diabetes = CsvData.LoadRegression<double>("data/diabetes/diabetes.csv", targetColumns: new[] { "progression" });
        var training = diabetes.Data.Take(354);                  // the first 80 % to learn from
        var test = diabetes.Data.Skip(354);                      // the other 88 to test on

        var network = NeuralNetwork.Create(inputWidth: 10)
            .Dense(100, Activation.ReLU)                         // Xavier initialisation, the default in a regression network
            .Dense(1)                                            // no activation: any real value
            .Build(seed: 1)
            .WithScaler(Scaler.FitStandard(training));

        // Fit scales the targets to mean 0 and deviation 1 and keeps that scaler: Predict answers in the
        // targets' units (FitOptions.TargetScaling = TargetScaling.None trains on them as they are).
        var result = network.Fit(training, new FitOptions { Seed = 1 });

        var evaluation = result.Network.EvaluateRegression(test);
        Console.WriteLine($"R² {evaluation.RSquared:F3}, RMSE {evaluation.RootMeanSquaredError:F1}, MAE {evaluation.MeanAbsoluteError:F1}");
        double[] predicted = result.Network.Predict(test.GetInput(0));   // in the units of progression
        // README "Regression" ends
        return (evaluation, predicted, result.Network, test);
    }

    private static FitResult<double> BetterMnist()
    {
        // README "FunctionalBackprop" begins
        var digits = Mnist.Load<double>("data/mnist-10k");          // pixels scaled to [0, 1] as they load
        var network = NeuralNetwork.Create(inputWidth: 784)
            .Dense(100, Activation.ReLU, Initializer.HeNormal)
            .Dense(10, Activation.Softmax, Initializer.HeNormal)     // --init he draws every layer this way
            .Build(seed: 1);
        var result = network.Fit(digits.Training, new FitOptions
        {
            Epochs = 30,
            BatchSize = 10,
            Seed = 1,
            L2 = 5,
            Optimizer = Optimizer.HeavyBall(Schedule.Cosine(0.05, 0.0005), beta: 0.9),   // cosine decay over the whole run
        });
        Console.WriteLine($"test accuracy {result.Network.EvaluateClassifier(digits.Test).Accuracy:P2}");
        // README "FunctionalBackprop" ends
        return result;
    }

    private static NeuralNetwork<double> WithDropout()
    {
        // README "Layers of several kinds, and dropout" begins
        var network = NeuralNetwork.Create(inputWidth: 784)
            .Dense(300, Activation.ReLU, Initializer.HeNormal)
            .Dropout(0.1)
            .Dense(10, Activation.Softmax, Initializer.HeNormal)
            .Build(seed: 1);
        // README "Layers of several kinds, and dropout" ends
        return network;
    }

    /// <summary>README's LeNet-5 in C#: the network and run that <c>--network lenet</c> trains (see <see cref="MainJobTests"/>).</summary>
    internal static FitResult<float> LeNet()
    {
        // README "Convolutional networks: LeNet-5" begins
        var digits = Mnist.Load<float>("data/mnist-10k");           // 1 × 28 × 28 images, C-H-W as PyTorch stores them
        var training = digits.Training.WithShiftedImages(1);        // each digit, then four copies moved by a pixel
        var network = NeuralNetwork.Create(channels: 1, height: 28, width: 28)
            .Conv2D(6, kernel: 5, padding: 2, activation: Activation.ReLU, initializer: Initializer.HeNormal)
            .MaxPool2D(2)
            .Conv2D(16, kernel: 5, activation: Activation.ReLU, initializer: Initializer.HeNormal)
            .MaxPool2D(2)
            .Flatten()
            .Dense(120, Activation.ReLU, Initializer.HeNormal).Dropout(0.3)
            .Dense(84, Activation.ReLU, Initializer.HeNormal).Dropout(0.3)
            .Dense(10, Activation.Softmax, Initializer.HeNormal)
            .Build<float>(seed: 1);
        var result = network.Fit(training, new FitOptions<float>
        {
            Epochs = 6,
            BatchSize = 64,
            Shards = 2,                                              // the batch's gradient summed over two halves, as the command does
            Seed = 1,
            L2 = 10,
            Optimizer = Optimizer.HeavyBall(Schedule.Cosine(0.05, 0.0005), beta: 0.9),
        });
        Console.WriteLine($"test accuracy {result.Network.EvaluateClassifier(digits.Test).Accuracy:P2}");
        // README "Convolutional networks: LeNet-5" ends
        return result;
    }

    /// <summary>Runs <see cref="LeNet"/> from the repository root, as README's commands run.</summary>
    internal static FitResult<float> LeNetFromRoot() => FromRoot(LeNet);

    /// <summary>Runs the example from the repository root, as README's commands run.</summary>
    private static TResult FromRoot<TResult>(Func<TResult> example)
    {
        var before = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(Repository.Root());
        try
        {
            return example();
        }
        finally
        {
            Directory.SetCurrentDirectory(before);
        }
    }

    [Theory]
    [InlineData("C# quick start")]
    [InlineData("Your own data")]
    [InlineData("Regression")]
    [InlineData("FunctionalBackprop")]
    [InlineData("Layers of several kinds, and dropout")]
    [InlineData("Convolutional networks: LeNet-5")]
    public void TheReadmeShowsThisCode(string heading)
    {
        var region = Repository.MarkedCode(Path.Combine("Facade", "QuickStartTests.cs"), $"README \"{heading}\"");
        Assert.False(string.IsNullOrWhiteSpace(region), $"No region for \"{heading}\" in QuickStartTests.cs.");
        var block = Repository.ReadmeCSharp(heading);
        Assert.False(string.IsNullOrWhiteSpace(block), $"README.md's section \"{heading}\" has no ```csharp block.");
        Assert.Equal(Code.Normalise(region), Code.Normalise(block));
    }

    [Fact]
    public void TheQuickStartLearnsXor() => Assert.Equal(new[] { 0, 1, 1, 0 }, FromRoot(QuickStart));

    [Fact]
    public void YourOwnDataLearnsTheDigitsAndTheLoadedNetworkAnswersRawPixelsAlike()
    {
        var (result, evaluation, test, predicted, loaded) = FromRoot(YourOwnData);
        Assert.Equal(Loss.CrossEntropy, result.LossFunction);
        Assert.Equal(397, evaluation.Count);
        Assert.True(evaluation.Accuracy >= 0.9, $"accuracy {evaluation.Accuracy:P2} is below 90% (README reports 92.19 %)");
        Assert.Equal(result.Network.Classify(test), predicted);
        Assert.Equal(result.Network.Predict(test), loaded.Predict(test));
        Assert.Equal(result.Network.Scaler!.Offsets, loaded.Scaler!.Offsets);
        Assert.Equal(evaluation.Accuracy, (double)Enumerable.Range(0, 10).Sum(k => evaluation.ConfusionMatrix[k, k]) / evaluation.Count);
    }

    [Fact]
    public void TheRegressionExamplePrintsWhatTheReadmeSaysInTheTargetsUnits()
    {
        var (evaluation, predicted, network, test) = FromRoot(Regression);
        var printed = FormattableString.Invariant($"It prints R² {evaluation.RSquared:F3}, RMSE {evaluation.RootMeanSquaredError:F1}, MAE {evaluation.MeanAbsoluteError:F1}.");
        Assert.Contains(printed, File.ReadAllText(Path.Combine(Repository.Root(), "README.md")));
        Assert.Equal(88, evaluation.Count);
        Assert.Equal(network.Predict(test)[0][0], predicted[0], 9);
        Assert.InRange(predicted[0], 25, 346);
    }

    [Fact]
    public void ReadmesDropoutNetworkHasTheDenseNetworksWeightsAndPredictsAsIt()
    {
        var network = WithDropout();
        Assert.Equal(new[] { LayerKind.Dense, LayerKind.Dropout, LayerKind.Dense }, network.Layers.Select(l => l.Kind));
        var dense = NeuralNetwork.Create(784).Dense(300, Activation.ReLU, Initializer.HeNormal).Dense(10, Activation.Softmax, Initializer.HeNormal).Build(seed: 1);
        Assert.Equal(dense.GetWeights(1), network.GetWeights(2));
        var digits = FromRoot(() => Mnist.Load<double>("data/mnist-10k")).Test.Take(20);
        Assert.Equal(dense.Predict(digits), network.Predict(digits));
    }

    [Fact]
    public void TheBetterMnistConfigurationInCSharpReaches96Percent()
    {
        var result = FromRoot(BetterMnist);
        var accuracy = result.Network.EvaluateClassifier(FromRoot(() => Mnist.Load<double>("data/mnist-10k")).Test).Accuracy;
        Assert.True(accuracy >= 0.96, $"final accuracy {accuracy:P2} is below 96% (the command line's configuration reaches 96.55 %)");
        Assert.Equal(Loss.CrossEntropy, result.LossFunction);
    }
}
