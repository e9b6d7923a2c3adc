using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Xunit;
using Xunit.Abstractions;

namespace FunctionalBackprop.MLNet.Tests;

/// <summary>
/// A pipeline saved with <c>mlContext.Model.Save</c> and loaded in a fresh process (MLNet.Loader,
/// which calls ML.NET's API only) gives, through a PredictionEngine, the trained network's own
/// outputs: float32 within 10⁻⁶ relative to the scale of the sums (<see cref="Agreement"/>), and the same classes. With a scaler in the network too:
/// it travels inside the ONNX model.
/// </summary>
public sealed class SaveLoadTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("multiclass", false)]
    [InlineData("multiclass", true)]
    [InlineData("binary", false)]
    [InlineData("binary", true)]
    [InlineData("regression", false)]
    [InlineData("regression", true)]
    public void AModelLoadedInAnotherProcessPredictsAsTheNetwork(string task, bool scaler)
    {
        var ml = new MLContext(seed: 1);
        // Features far from 0 and of large spread: a scaler changes everything, so a lost one shows.
        var training = Synthetic.Data(ml, Synthetic.Rows(300, seed: 3, offset: scaler ? 40 : 0, scale: scaler ? 25 : 1));
        var rows = Synthetic.Rows(50, seed: 4, offset: scaler ? 40 : 0, scale: scaler ? 25 : 1);
        using var model = Synthetic.Trainer(ml, task, Synthetic.Quick(), scaler ? ScalerKind.Standard : null).Fit(training);
        Assert.Equal(scaler, model.Network.Scaler is not null);

        var folder = Directory.CreateTempSubdirectory("fbp-mlnet-").FullName;
        try
        {
            var path = Path.Combine(folder, "model.zip");
            ml.Model.Save(model, training.Schema, path);
            var input = Path.Combine(folder, "rows.txt");
            File.WriteAllLines(input, rows.Select(r => string.Join(' ', r.Features.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));
            var lines = Loader(path, task, "Features", input);
            Assert.Equal(rows.Count, lines.Length);
            var worst = 0.0;

            for (var i = 0; i < rows.Count; i++)
            {
                var expected = model.Network.Predict(rows[i].Features);
                var fields = lines[i].Split(' ');
                switch (task)
                {
                    case "multiclass":
                        var scores = fields[..^1].Select(Parse).ToArray();
                        Agreement.Close(model.Network, rows[i].Features, scores, expected, $"row {i}");
                        worst = Math.Max(worst, Agreement.Difference(model.Network, rows[i].Features, scores, expected));
                        Assert.Equal((uint)model.Network.Classify(rows[i].Features) + 1, uint.Parse(fields[^1], CultureInfo.InvariantCulture));
                        break;
                    case "binary":
                        var (score, probability) = (Parse(fields[0]), Parse(fields[1]));
                        Agreement.Close(model.Network, rows[i].Features, new[] { probability }, expected, $"row {i}");
                        worst = Math.Max(worst, Agreement.Difference(model.Network, rows[i].Features, new[] { probability }, expected));
                        Assert.Equal(model.Network.Classify(rows[i].Features) == 1, bool.Parse(fields[2]));
                        var sigma = 1 / (1 + Math.Exp(-score));
                        Assert.True(Math.Abs(sigma - probability) <= 1e-6 * Math.Max(sigma, 1e-30) + 1e-12, $"row {i}: σ(Score) = {sigma}, Probability {probability}");
                        break;
                    default:
                        Agreement.Close(model.Network, rows[i].Features, new[] { Parse(fields[0]) }, expected, $"row {i}");
                        worst = Math.Max(worst, Agreement.Difference(model.Network, rows[i].Features, new[] { Parse(fields[0]) }, expected));
                        break;
                }
            }

            output.WriteLine($"{task}, scaler {scaler}: the largest difference over {rows.Count} rows is {worst:E2} of the scale");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static float Parse(string value) => float.Parse(value, CultureInfo.InvariantCulture);

    /// <summary>Runs MLNet.Loader (beside the test binaries) and returns its output lines.</summary>
    private static string[] Loader(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MLNet.Loader.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "MLNet.Loader did not finish in 2 minutes.");
        Assert.True(process.ExitCode == 0, $"MLNet.Loader failed ({process.ExitCode}):\n{stdout.Result}{stderr.Result}");
        return stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
