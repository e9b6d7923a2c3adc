using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace FunctionalBackprop.Packaging;

/// <summary>The repository these tests run in, and the libraries of its src/ folder.</summary>
public static class Repository
{
    /// <summary>The first folder above the test binaries that holds the solution.</summary>
    public static string Root => FunctionalBackprop.Testing.RepositoryRoot.Path;

    /// <summary>
    /// Every library of src/ (each is a package): the project references of this test project,
    /// written to libraries.txt by its build as "assembly name|project file".
    /// </summary>
    public static IReadOnlyList<Library> Libraries { get; } = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "libraries.txt"))
        .Where(line => line.Length > 0)
        .Select(line => line.Split('|'))
        .Select(parts => new Library(parts[0], parts[1]))
        .OrderBy(library => library.AssemblyName, StringComparer.Ordinal)
        .ToList();

    /// <summary>The text of README.md.</summary>
    public static string Readme() => File.ReadAllText(Path.Combine(Root, "README.md"));
}

/// <summary>A library of src/: its assembly (which is also its package's id) and its project file.</summary>
public sealed record Library(string AssemblyName, string ProjectFile)
{
    /// <summary>The folder of its project.</summary>
    public string ProjectFolder => Path.GetDirectoryName(ProjectFile)!;

    /// <summary>The committed snapshot of its public API.</summary>
    public string ApiSnapshot => Path.Combine(ProjectFolder, "PublicApi.txt");

    /// <inheritdoc/>
    public override string ToString() => AssemblyName;
}
