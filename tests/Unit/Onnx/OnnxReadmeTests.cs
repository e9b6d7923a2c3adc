using System;
using System.IO;
using System.Linq;
using FunctionalBackprop.Onnx;
using Microsoft.ML.OnnxRuntime;
using FunctionalBackprop.Testing;
using Xunit;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>README.md's ONNX example is this code, and it runs: the file saved runs in ONNX Runtime and loads back.</summary>
public class OnnxReadmeTests
{
    private static (float[] Y, NeuralNetwork<float> Network, NeuralNetwork<float> Loaded, float[] Pixels) Example()
    {
        // onnx example begins
        // Any NeuralNetwork<float> or NeuralNetwork<double>; here a fresh 784-30-10 one.
        var network = NeuralNetwork.Create(784).Dense(30, Activation.Sigmoid).Dense(10, Activation.Softmax).Build<float>(seed: 1);
        var path = Path.Combine(Path.GetTempPath(), "mnist.onnx");
        network.SaveOnnx(path);   // opset 13, IR version 7: x [batch, 784] → y [batch, 10]

        // ONNX Runtime (the Microsoft.ML.OnnxRuntime package) runs the file.
        var pixels = Enumerable.Range(0, 784).Select(i => i % 28 / 28f).ToArray();
        using var session = new InferenceSession(path);
        using var x = OrtValue.CreateTensorValueFromMemory(pixels, new long[] { 1, 784 });
        using var options = new RunOptions();
        using var outputs = session.Run(options, new[] { "x" }, new[] { x }, new[] { "y" });
        float[] y = outputs[0].GetTensorDataAsSpan<float>().ToArray();

        // Files from PyTorch's torch.onnx.export, and this library's own, load as networks.
        var loaded = OnnxModel.Load<float>(path);
        // onnx example ends
        return (y, network, loaded, pixels);
    }

    [Fact]
    public void TheExampleRunsInOnnxRuntimeAndLoadsBack()
    {
        var (y, network, loaded, pixels) = Example();
        var expected = network.Predict(pixels);
        var scale = OnnxTesting.Scales(network, new[] { pixels });
        Assert.True(OnnxTesting.RelativeDifference(new[] { y }, new[] { expected }, scale) <= 1e-6, $"ONNX Runtime gave [{string.Join(", ", y)}], Predict [{string.Join(", ", expected)}]");
        Assert.Equal(OnnxTesting.Bits(network), OnnxTesting.Bits(loaded));
    }

    [Fact]
    public void TheReadmeShowsThisExample()
    {
        var block = Repository.ReadmeCSharp("ONNX");
        var code = Repository.MarkedCode(Path.Combine("Onnx", "OnnxReadmeTests.cs"), "onnx example");
        Assert.False(string.IsNullOrWhiteSpace(block), "README.md has no \"## ONNX\" section with a ```csharp block.");
        Assert.Equal(Code.Normalise(code), Code.Normalise(block));
    }
}
