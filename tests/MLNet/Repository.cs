using System;
using System.IO;
using System.Text.RegularExpressions;
using FunctionalBackprop.Build;

namespace FunctionalBackprop.MLNet.Tests;

/// <summary>Where the repository is, and the code README.md shows, for the tests that run it.</summary>
internal static class Repository
{
    /// <summary>The repository's root: the first folder above the test binaries that holds the solution.</summary>
    public static string Root() => FunctionalBackprop.Testing.RepositoryRoot.Path;

    /// <summary>Runs the example from the repository root, as README's commands run.</summary>
    public static TResult FromRoot<TResult>(Func<TResult> example)
    {
        var before = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(Root());
        try
        {
            return example();
        }
        finally
        {
            Directory.SetCurrentDirectory(before);
        }
    }

    /// <summary>The bundled digits CSV.</summary>
    public static string Digits => Path.Combine(Root(), "data", "digits", "digits.csv");

    /// <summary>The ```csharp block of README.md's section under <paramref name="section"/>; empty if there is none.</summary>
    public static string ReadmeCSharp(string section) =>
        ReadmeSections.Block(File.ReadAllText(Path.Combine(Root(), "README.md")), section, "csharp") ?? string.Empty;

    /// <summary>The lines between "// <paramref name="marker"/> begins" and "// … ends" in a file of tests/MLNet.</summary>
    public static string MarkedCode(string testFile, string marker)
    {
        var source = File.ReadAllText(Path.Combine(Root(), "tests", "MLNet", testFile)).Replace("\r\n", "\n");
        return Regex.Match(source, $"// {Regex.Escape(marker)} begins\n(.*?)// {Regex.Escape(marker)} ends", RegexOptions.Singleline).Groups[1].Value;
    }
}
