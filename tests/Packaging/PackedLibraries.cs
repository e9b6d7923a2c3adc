using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace FunctionalBackprop.Packaging;

/// <summary>
/// Every library of src/ packed once, as `dotnet pack` makes them for users, into a folder of
/// its own under the temporary directory, with the pieces of each package the tests read.
/// </summary>
public sealed class PackedLibraries : IDisposable
{
    public PackedLibraries()
    {
        Folder = Directory.CreateTempSubdirectory("fbp-packages-").FullName;
        Feed = Directory.CreateDirectory(Path.Combine(Folder, "feed")).FullName;

        // One `dotnet pack` over a solution filter of exactly the libraries, so that they build
        // once and in parallel. Everything else of the solution is neither built nor packed.
        var filter = Path.Combine(Folder, "libraries.slnf");
        File.WriteAllText(filter, JsonSerializer.Serialize(new
        {
            solution = new
            {
                path = Path.Combine(Repository.Root, "FunctionalBackprop.sln"),
                projects = Repository.Libraries.Select(library => Path.GetRelativePath(Repository.Root, library.ProjectFile)).ToArray(),
            },
        }));
        try
        {
            PackOutput = Command.Run(Repository.Root, "dotnet", ["pack", filter, "-c", "Release", "-o", Feed, "-warnaserror"]);
            Packages = Repository.Libraries.ToDictionary(library => library.AssemblyName, library => Package.Read(Feed, library.AssemblyName));
        }
        catch
        {
            // xunit disposes only a fixture it could make: a failed pack cleans up here.
            Dispose();
            throw;
        }
    }

    /// <summary>The temporary folder of this run: the feed, and the consumer projects beside it.</summary>
    public string Folder { get; }

    /// <summary>The folder the packages were packed into: a local NuGet feed.</summary>
    public string Feed { get; }

    /// <summary>What `dotnet pack` printed.</summary>
    public string PackOutput { get; }

    /// <summary>Each library's package, by package id.</summary>
    public IReadOnlyDictionary<string, Package> Packages { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A process that has not let go of a file yet: the temporary folder is the system's to clean.
        }
    }
}

/// <summary>One .nupkg and its .snupkg: the list of files, the nuspec, and texts read from them.</summary>
public sealed class Package
{
    private static readonly XNamespace Nuspec = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";

    private Package(string path, string symbolsPath, IReadOnlyList<string> files, IReadOnlyList<string> symbolFiles, XElement metadata, string readme)
    {
        Path = path;
        SymbolsPath = symbolsPath;
        Files = files;
        SymbolFiles = symbolFiles;
        Metadata = metadata;
        Readme = readme;
    }

    public string Path { get; }

    public string SymbolsPath { get; }

    /// <summary>The entries of the .nupkg.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>The entries of the .snupkg.</summary>
    public IReadOnlyList<string> SymbolFiles { get; }

    /// <summary>The nuspec's metadata element.</summary>
    public XElement Metadata { get; }

    /// <summary>The package's README.md, as nuget.org would show it.</summary>
    public string Readme { get; }

    public string Id => Value("id");

    public string Version => Value("version");

    /// <summary>A metadata element's text ("" when absent).</summary>
    public string Value(string name) => Metadata.Element(Nuspec + name)?.Value ?? string.Empty;

    /// <summary>A metadata element (null when absent).</summary>
    public XElement? Element(string name) => Metadata.Element(Nuspec + name);

    /// <summary>The dependency groups: target framework to (package id, version range).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Dependencies =>
        (Element("dependencies")?.Elements(Nuspec + "group") ?? [])
            .ToDictionary(
                group => group.Attribute("targetFramework")?.Value ?? string.Empty,
                group => (IReadOnlyDictionary<string, string>)group.Elements(Nuspec + "dependency")
                    .ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value));

    /// <summary>An entry's bytes.</summary>
    public byte[] ReadEntry(string archive, string entry)
    {
        using var zip = ZipFile.OpenRead(archive);
        using var stream = zip.GetEntry(entry)?.Open() ?? throw new FileNotFoundException($"{entry} is not in {archive}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    internal static Package Read(string feed, string id)
    {
        var matches = Directory.GetFiles(feed, id + ".*.nupkg").Where(p => Regex.IsMatch(System.IO.Path.GetFileName(p), "^" + Regex.Escape(id) + @"\.\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?\.nupkg$")).ToList();
        Assert.True(matches.Count == 1, $"Expected one package {id} in {feed}, found: {string.Join(", ", Directory.GetFiles(feed).Select(System.IO.Path.GetFileName))}");
        var path = matches[0];
        var symbols = System.IO.Path.ChangeExtension(path, ".snupkg");
        Assert.True(File.Exists(symbols), $"{System.IO.Path.GetFileName(path)} has no symbols package beside it.");
        using var zip = ZipFile.OpenRead(path);
        using var symbolZip = ZipFile.OpenRead(symbols);
        var nuspec = zip.Entries.Single(e => e.FullName == id + ".nuspec");
        XElement metadata;
        using (var stream = nuspec.Open())
        {
            metadata = XDocument.Load(stream).Root!.Element(Nuspec + "metadata")!;
        }

        var readmeEntry = metadata.Element(Nuspec + "readme")?.Value;
        var readme = string.Empty;
        if (readmeEntry is not null && zip.GetEntry(readmeEntry) is { } entry)
        {
            using var reader = new StreamReader(entry.Open());
            readme = reader.ReadToEnd();
        }

        return new Package(path, symbols, zip.Entries.Select(e => e.FullName).ToList(), symbolZip.Entries.Select(e => e.FullName).ToList(), metadata, readme);
    }
}

/// <summary>The tests that share the packed libraries (packing takes a while; they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class PackagesCollection : ICollectionFixture<PackedLibraries>
{
    public const string Name = "packages";
}
