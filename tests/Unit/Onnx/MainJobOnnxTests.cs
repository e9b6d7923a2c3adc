using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
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
    public async Task TheTrainedModelRunsInOnnxRuntimeAsTheLibraryPredicts()
    {
        var program = Path.Combine(AppContext.BaseDirectory, "MnistTrainer.dll");
        var arguments = $"\"{program}\" --epochs 1 --model \"{output}/model.fbnn\" --plot \"{output}/curve.png\" --onnx \"{output}/onnx/model.onnx\"";
        string text;
        var start = new ProcessStartInfo("dotnet", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        using (var process = Process.Start(start)!)
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            var stdout = process.StandardOutput.ReadToEndAsync(limit.Token);
            var stderr = process.StandardError.ReadToEndAsync(limit.Token);
            await process.WaitForExitAsync(limit.Token);
            text = await stdout + await stderr;
            Assert.True(process.ExitCode == 0, $"The trainer failed ({process.ExitCode}):\n{text}");
            Assert.Contains("Saved the model as ONNX to", text);
        }

        var trained = NeuralNetwork<double>.Load(Path.Combine(output, "model.fbnn"));
        var onnx = File.ReadAllBytes(Path.Combine(output, "onnx", "model.onnx"));
        Assert.Equal(OnnxTesting.Bits(trained), OnnxTesting.Bits(OnnxModel.Load<double>(new MemoryStream(onnx))));

        var root = AppContext.BaseDirectory;
        while (!Directory.Exists(Path.Combine(root, "data", "mnist-10k")))
        {
            root = Path.GetDirectoryName(root) ?? throw new DirectoryNotFoundException("data/mnist-10k not found above the test folder.");
        }

        var digits = Mnist.Load<double>(Path.Combine(root, "data", "mnist-10k"));
        var images = Enumerable.Range(0, digits.Test.Count).Select(j => digits.Test.Inputs.AsSpan().Slice(j * 784, 784).ToArray()).ToArray();
        var runtime = OnnxTesting.RunInOnnxRuntime(onnx, images);
        var difference = OnnxTesting.RelativeDifference(trained.Predict(images), runtime, OnnxTesting.Scales(trained, images));
        Assert.True(difference <= 1e-12, $"ONNX Runtime differs from Predict by {difference:G3} relative on the test digits");
        // Outputs that agree to 10⁻¹² classify alike unless two scores tie that closely.
        var correct = runtime.Select((y, j) => Array.IndexOf(y, y.Max()) == digits.TestLabels[j]).Count(ok => ok);
        var reported = Regex.Match(text, @"Final test accuracy: .*?\((\d+) / 2000\)");
        Assert.True(reported.Success, $"No final accuracy in the trainer's output:\n{text}");
        Assert.Equal(int.Parse(reported.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), correct);
    }
}
