using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace FunctionalBackprop.Tests;

/// <summary>Where the repository is, and the code README.md shows, for tests that check it.</summary>
internal static class Repository
{
    /// <summary>The repository's root: the first folder above the test binaries that holds the solution.</summary>
    public static string Root()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "FunctionalBackprop.sln")))
            {
                return folder.FullName;
            }
        }

        throw new DirectoryNotFoundException("FunctionalBackprop.sln not found above the test binaries.");
    }

    /// <summary>
    /// The first ```csharp block of README.md, or of the section under the heading (any level) up
    /// to the next heading outside a code block; empty if there is none.
    /// </summary>
    public static string ReadmeCSharp(string? section = null)
    {
        var lines = File.ReadAllLines(Path.Combine(Root(), "README.md"));
        var start = section is null ? -1 : Array.FindIndex(lines, l => Regex.IsMatch(l, $"^#+ {Regex.Escape(section)}$"));
        if (section is not null && start < 0)
        {
            return string.Empty;
        }

        var block = new List<string>();
        var inBlock = false;
        var inFence = false;
        foreach (var line in lines.Skip(start + 1))
        {
            if (section is not null && !inFence && line.StartsWith('#'))
            {
                break;
            }

            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                if (inBlock)
                {
                    return string.Join("\n", block);
                }

                inFence = !inFence;
                inBlock = inFence && line.Trim() == "```csharp";
                continue;
            }

            if (inBlock)
            {
                block.Add(line);
            }
        }

        return string.Empty;
    }

    /// <summary>The lines between "// <paramref name="marker"/> begins" and "// … ends" in a file of tests/Unit.</summary>
    public static string MarkedCode(string testFile, string marker)
    {
        var source = File.ReadAllText(Path.Combine(Root(), "tests", "Unit", testFile));
        return Regex.Match(source, $"// {Regex.Escape(marker)} begins\n(.*?)// {Regex.Escape(marker)} ends", RegexOptions.Singleline).Groups[1].Value;
    }
}
