using System;
using System.IO;
using System.Linq;
using FunctionalBackprop.Onnx;
using Xunit;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>
/// The main job's --onnx writes the trained network as ONNX: ONNX Runtime runs it on the 2,000 test
/// digits, gives what the model file saved beside it predicts and classifies as many correctly as
/// the trainer reported, and the file loads back bit for bit.
/// </summary>
public sealed class MainJobOnnxTests : IDisposable
{
    private readonly string output = Directory.CreateTempSubdirectory("fbp-mainjob-onnx-").FullName;

    public void Dispose() => Directory.Delete(output, recursive: true);

    [Fact]
    public void TheTrainedModelRunsInOnnxRuntimeAsTheLibraryPredicts()
    {
        var (_, reported, text) = MainJob.Train(output, $"--epochs 1 --onnx \"{output}/onnx/model.onnx\"");
        Assert.Contains("Saved the model as ONNX to", text);
        var trained = NeuralNetwork<double>.Load(Path.Combine(output, "model.fbnn"));
        var onnx = File.ReadAllBytes(Path.Combine(output, "onnx", "model.onnx"));
        Assert.Equal(OnnxTesting.Bits(trained), OnnxTesting.Bits(OnnxModel.Load<double>(new MemoryStream(onnx))));

        var digits = Mnist.Load<double>(Path.Combine(Repository.Root(), "data", "mnist-10k"));
        var images = Enumerable.Range(0, digits.Test.Count).Select(j => digits.Test.Inputs.AsSpan().Slice(j * 784, 784).ToArray()).ToArray();
        var runtime = OnnxTesting.RunInOnnxRuntime(onnx, images);
        var difference = OnnxTesting.RelativeDifference(trained.Predict(images), runtime, OnnxTesting.Scales(trained, images));
        Assert.True(difference <= 1e-12, $"ONNX Runtime differs from Predict by {difference:G3} relative on the test digits");

        // Outputs that agree to 10⁻¹² classify alike unless two scores tie that closely.
        var correct = runtime.Select((y, j) => Array.IndexOf(y, y.Max()) == digits.TestLabels[j]).Count(ok => ok);
        Assert.Equal(reported, correct);
    }
}
