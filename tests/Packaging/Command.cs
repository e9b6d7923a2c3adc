using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Xunit;

namespace FunctionalBackprop.Packaging;

/// <summary>Runs a command line tool (dotnet) as a user would, and fails the test with its output if it fails.</summary>
public static class Command
{
    /// <summary>
    /// Runs <paramref name="file"/> in <paramref name="folder"/> with the test's environment less
    /// the MSBuild variables of the `dotnet test` that started it, plus <paramref name="environment"/>;
    /// returns its output (stdout then stderr) and fails unless it exits with 0 within the time limit.
    /// </summary>
    public static string Run(string folder, string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, int minutes = 5)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(name => name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        // No MSBuild node outlives the command; no first-run banners in the output.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var line = $"{file} {string.Join(' ', arguments)} (in {folder})";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {line}.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(minutes)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{line} did not finish in {minutes} minutes:\n{stdout.Result}{stderr.Result}");
        }

        var output = stdout.Result + stderr.Result;
        Assert.True(process.ExitCode == 0, $"{line} failed with exit code {process.ExitCode}:\n{output}");
        return output;
    }
}
