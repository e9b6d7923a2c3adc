using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace FunctionalBackprop.MLNet.Tests;

/// <summary>The tests that run README's code from the repository root (they change the process's working directory), one after another.</summary>
[CollectionDefinition(Name)]
public sealed class ReadmeCollection
{
    public const string Name = "README examples, run from the repository root";
}

/// <summary>How close ML.NET's outputs (ONNX Runtime's float32 arithmetic) are to the network's own.</summary>
internal static class Agreement
{
    /// <summary>The largest relative difference allowed: float32 arithmetic in another order.</summary>
    public const double Relative = 1e-6;

    /// <summary>|a − b| ≤ 10⁻⁶ · max(|a|, |b|).</summary>
    public static bool Within(float actual, float expected) =>
        actual == expected || Math.Abs((double)actual - expected) <= Relative * Math.Max(Math.Abs((double)actual), Math.Abs((double)expected));
}

internal static class Code
{
    /// <summary>Code without blank lines, indentation or its using directives, to compare README's blocks with the tests' regions.</summary>
    public static string Normalise(string code) =>
        string.Join("\n", code.Replace("\r\n", "\n").Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !Regex.IsMatch(line, @"^using [A-Za-z.]+;$")));
}
