using System;
using System.IO;
using System.Text.RegularExpressions;
using FunctionalBackprop.Build;

namespace FunctionalBackprop.Tests;

/// <summary>Where the repository is, and the code README.md shows, for tests that check it.</summary>
internal static class Repository
{
    /// <summary>The repository's root: the first folder above the test binaries that holds the solution.</summary>
    public static string Root() => FunctionalBackprop.Testing.RepositoryRoot.Path;

    /// <summary>
    /// The ```csharp block of README.md's section under <paramref name="section"/> (the rule of
    /// build/ReadmeSections.cs, by which the package READMEs take their code too); empty if there is none.
    /// </summary>
    public static string ReadmeCSharp(string section) =>
        ReadmeSections.Block(File.ReadAllText(Path.Combine(Root(), "README.md")), section, "csharp") ?? string.Empty;

    /// <summary>The lines between "// <paramref name="marker"/> begins" and "// … ends" in a file of tests/Unit.</summary>
    public static string MarkedCode(string testFile, string marker)
    {
        var source = File.ReadAllText(Path.Combine(Root(), "tests", "Unit", testFile));
        return Regex.Match(source, $"// {Regex.Escape(marker)} begins\n(.*?)// {Regex.Escape(marker)} ends", RegexOptions.Singleline).Groups[1].Value;
    }
}
