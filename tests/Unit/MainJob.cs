using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text.RegularExpressions;
using Xunit;

namespace FunctionalBackprop.Tests;

/// <summary>The main job (the MnistTrainer program beside the test binaries), run as a user runs it.</summary>
internal static class MainJob
{
    /// <summary>
    /// Runs the trainer with the arguments, its model and learning curve written to
    /// <paramref name="folder"/>/model.fbnn and curve.png; returns its final test accuracy, the
    /// number of test digits it classified correctly, and everything it printed. The environment
    /// pairs are set for the trainer's process only.
    /// </summary>
    public static (double Accuracy, int Correct, string Output) Train(string folder, string arguments, params (string Name, string Value)[] environment)
    {
        var (code, text) = Run(folder, arguments, environment);
        Assert.True(code == 0, $"The trainer failed ({code}):\n{text}");
        var match = Regex.Match(text, @"Final test accuracy: ([0-9.]+) % \((\d+) / \d+\)");
        Assert.True(match.Success, $"No final accuracy in the output:\n{text}");
        return (double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) / 100, int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture), text);
    }

    /// <summary>Runs the trainer as <see cref="Train"/> does and returns its exit code and everything it printed, whatever the code.</summary>
    public static (int ExitCode, string Output) Run(string folder, string arguments, params (string Name, string Value)[] environment)
    {
        var program = Path.Combine(AppContext.BaseDirectory, "MnistTrainer.dll");
        var start = new ProcessStartInfo("dotnet", $"\"{program}\" {arguments} --model \"{folder}/model.fbnn\" --plot \"{folder}/curve.png\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), "The trainer did not finish in 5 minutes.");
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
