using System;
using System.IO;

namespace FunctionalBackprop.Testing;

/// <summary>Where the repository is, for the C# test projects (each links this file).</summary>
internal static class RepositoryRoot
{
    /// <summary>The repository's root: the first folder above the test binaries that holds the solution.</summary>
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(folder.FullName, "FunctionalBackprop.sln")))
            {
                return folder.FullName;
            }
        }

        throw new DirectoryNotFoundException("FunctionalBackprop.sln not found above the test binaries.");
    }
}
