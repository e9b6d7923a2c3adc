using System;
using System.IO;
using Xunit;

namespace FunctionalBackprop.Tests;

/// <summary>
/// The main job, run as README.md gives it (the MnistTrainer program on the bundled digits): the
/// chapter 1 defaults reach what Nielsen's network.py reaches on the same split (91.9% final,
/// docs/benchmarks.md), and the documented better configuration at least 96%.
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
}
