using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection.Metadata;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using FunctionalBackprop.Build;
using Xunit;

namespace FunctionalBackprop.Packaging;

/// <summary>
/// What each package of src/ holds, read from the .nupkg and .snupkg that `dotnet pack` makes:
/// what nuget.org would show (description, licence, README, links) and what a user's build and
/// debugger get (the assembly, its XML docs, dependencies, symbols with SourceLink).
/// </summary>
[Collection(PackagesCollection.Name)]
public class PackageTests(PackedLibraries packed)
{
    public static TheoryData<string> Ids() => new(Repository.Libraries.Select(library => library.AssemblyName));

    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    private static Library Library(string id) => Repository.Libraries.Single(library => library.AssemblyName == id);

    [Fact]
    public void PackingPrintsNoWarning() =>
        Assert.DoesNotMatch(@"(?i)\bwarning\b", packed.PackOutput);

    [Fact]
    public void TheFeedHoldsExactlyOnePackageAndOneSymbolPackagePerLibrary()
    {
        var expected = packed.Packages.Values.SelectMany(p => new[] { p.Path, p.SymbolsPath }).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(expected, Directory.GetFiles(packed.Feed).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void EveryPackageHasTheOneVersion()
    {
        var versions = packed.Packages.Values.Select(p => p.Version).Distinct().ToList();
        Assert.Single(versions);
        Assert.Matches(@"^\d+\.\d+\.\d+$", versions[0]);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void ReadmesInstallSectionNamesThePackage(string id) =>
        Assert.Matches(@"(?m)^dotnet add package " + Regex.Escape(id) + @"(\s|$)", Repository.Readme());

    [Theory]
    [MemberData(nameof(Ids))]
    public void TheMetadataDescribesThePackage(string id)
    {
        var package = packed.Packages[id];
        Assert.Equal(id, package.Id);
        Assert.True(package.Value("description").Length >= 80, $"{id}: the description says too little: \"{package.Value("description")}\"");
        Assert.True(package.Value("tags").Split(' ', StringSplitOptions.RemoveEmptyEntries).Length >= 3, $"{id}: too few tags: \"{package.Value("tags")}\"");
        Assert.False(string.IsNullOrWhiteSpace(package.Value("authors")));
        Assert.False(string.IsNullOrWhiteSpace(package.Value("copyright")));
        Assert.StartsWith("https://", package.Value("projectUrl"));
        var license = package.Element("license");
        Assert.Equal("expression", license?.Attribute("type")?.Value);
        Assert.Equal("MIT", license?.Value);
        var repository = package.Element("repository");
        Assert.Equal("git", repository?.Attribute("type")?.Value);
        Assert.StartsWith("https://", repository?.Attribute("url")?.Value);
        Assert.Matches("^[0-9a-f]{40}$", repository?.Attribute("commit")?.Value ?? string.Empty);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void ThePackageHoldsTheAssemblyItsXmlDocsReadmeAndLicence(string id)
    {
        var package = packed.Packages[id];
        Assert.Contains($"lib/net10.0/{id}.dll", package.Files);
        Assert.Contains($"lib/net10.0/{id}.xml", package.Files);
        Assert.Contains("LICENSE", package.Files);
        Assert.Equal("README.md", package.Value("readme"));
        Assert.Contains("README.md", package.Files);
        var licence = System.Text.Encoding.UTF8.GetString(package.ReadEntry(package.Path, "LICENSE"));
        Assert.Equal(File.ReadAllText(Path.Combine(Repository.Root, "LICENSE")), licence);
        var docs = XDocument.Parse(System.Text.Encoding.UTF8.GetString(package.ReadEntry(package.Path, $"lib/net10.0/{id}.xml")));
        Assert.Equal(id, docs.Root?.Element("assembly")?.Element("name")?.Value);
        Assert.True(docs.Root?.Element("members")?.Elements("member").Count() > 20, $"{id}.xml documents almost nothing.");
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void ThePackageReadmeShowsTheReadmeCodeItsTemplateNames(string id)
    {
        var readme = packed.Packages[id].Readme.Replace("\r\n", "\n");
        Assert.DoesNotContain("{{", readme);

        // package-readme.md names README sections ({{README.md ## C# quick start ```csharp}}, see
        // build/ReadmeExcerpts.targets); the package shows each one's block exactly as README.md has it.
        var template = File.ReadAllText(Path.Combine(Library(id).ProjectFolder, "package-readme.md"));
        var markers = Regex.Matches(template, @"\{\{README\.md ## (?<heading>[^`}]+?) ```(?<language>\w+)\}\}");
        Assert.True(markers.Any(m => m.Groups["language"].Value is "csharp" or "fsharp"), $"{id}'s package-readme.md takes no C# or F# code from README.md:\n{template}");
        foreach (Match marker in markers)
        {
            var (heading, language) = (marker.Groups["heading"].Value, marker.Groups["language"].Value);
            var code = ReadmeSections.Block(Repository.Readme(), heading, language);
            Assert.True(code is not null, $"README.md's section \"{heading}\" has no ```{language} block, which {id}'s package README shows.");
            Assert.Contains($"```{language}\n{code}\n```", readme);
        }

        // A package README is read on nuget.org and in IDEs, away from the repository: its links are absolute.
        Assert.DoesNotMatch(@"\]\((?!https://)", readme);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void APackageBuiltFromVendoredFilesShipsTheirLicencesAndTheNotices(string id)
    {
        // A vendored file keeps its licence beside it as LICENSE (src/Directory.Build.targets).
        var package = packed.Packages[id];
        var folder = Library(id).ProjectFolder;
        var licences = Directory.EnumerateFiles(folder, "LICENSE", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(folder, path).Replace('\\', '/'))
            .Where(path => !path.StartsWith("bin/", StringComparison.Ordinal) && !path.StartsWith("obj/", StringComparison.Ordinal))
            .ToList();
        var notices = File.ReadAllText(Path.Combine(Repository.Root, "THIRD-PARTY-NOTICES.md"));
        foreach (var licence in licences)
        {
            Assert.Contains(licence, package.Files);
            Assert.Equal(File.ReadAllBytes(Path.Combine(folder, licence)), package.ReadEntry(package.Path, licence));
            var inRepository = Path.GetRelativePath(Repository.Root, Path.Combine(folder, licence)).Replace('\\', '/');
            Assert.True(notices.Contains($"`{inRepository}`") && notices.Contains($"`{licence}`"),
                $"THIRD-PARTY-NOTICES.md does not name {inRepository} (`{licence}` in the package {id}).");
        }

        if (licences.Count > 0)
        {
            Assert.Contains("THIRD-PARTY-NOTICES.md", package.Files);
            Assert.Equal(notices, System.Text.Encoding.UTF8.GetString(package.ReadEntry(package.Path, "THIRD-PARTY-NOTICES.md")));
        }
        else
        {
            Assert.DoesNotContain("THIRD-PARTY-NOTICES.md", package.Files);
        }
    }

    [Fact]
    public void TheOnnxPackageShipsTheApacheLicenceOfTheSchemaItsCodeIsGeneratedFrom()
    {
        var package = packed.Packages["FunctionalBackprop.Onnx"];
        var licence = System.Text.Encoding.UTF8.GetString(package.ReadEntry(package.Path, "Proto/LICENSE"));
        Assert.Contains("Apache License", licence);
        Assert.Contains("Version 2.0, January 2004", licence);
        Assert.Contains("THIRD-PARTY-NOTICES.md", package.Files);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void EachDependencyOnAnotherLibraryIsPinnedToTheSameVersion(string id)
    {
        var package = packed.Packages[id];
        var group = Assert.Single(package.Dependencies);
        Assert.Equal("net10.0", group.Key);
        foreach (var (dependency, range) in group.Value.Where(d => packed.Packages.ContainsKey(d.Key)))
        {
            Assert.True(range == $"[{package.Version}]", $"{id} depends on {dependency} {range}; expected exactly [{package.Version}].");
        }
    }

    [Fact]
    public void FSharpCoreIsTheLowestVersionTheLibrariesAreBuiltWith()
    {
        // Directory.Packages.props names it once, as LibraryFSharpCoreVersion.
        var props = XDocument.Load(Path.Combine(Repository.Root, "Directory.Packages.props"));
        var lowest = props.Descendants("LibraryFSharpCoreVersion").Single().Value;
        var named = packed.Packages.Values
            .Select(p => (p.Id, Range: Assert.Single(p.Dependencies).Value.GetValueOrDefault("FSharp.Core")))
            .Where(d => d.Range is not null)
            .ToList();
        Assert.Contains(named, d => d.Id == "FunctionalBackprop.Core");
        Assert.All(named, d => Assert.True(d.Range == lowest, $"{d.Id} depends on FSharp.Core {d.Range}, not {lowest}."));
    }

    [Fact]
    public void TheFacadeDependsOnTheCoreAndFSharpCoreOnly()
    {
        var dependencies = Assert.Single(packed.Packages["FunctionalBackprop"].Dependencies).Value;
        Assert.Equal(new[] { "FSharp.Core", "FunctionalBackprop.Core" }, dependencies.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheOnnxPackageDependsOnTheLibrariesFSharpCoreAndGoogleProtobufOnly()
    {
        // protoc (Grpc.Tools) generates the protobuf classes at build time and must not reach users.
        var dependencies = Assert.Single(packed.Packages["FunctionalBackprop.Onnx"].Dependencies).Value;
        Assert.Equal(new[] { "FSharp.Core", "FunctionalBackprop", "FunctionalBackprop.Core", "Google.Protobuf" }, dependencies.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheMLNetPackageDependsOnTheLibrariesFSharpCoreMLNetItsOnnxTransformerAndOnnxRuntimeOnly()
    {
        // ONNX Runtime's CPU package brings the native runtime that ML.NET's OnnxTransformer runs the network in.
        var dependencies = Assert.Single(packed.Packages["FunctionalBackprop.MLNet"].Dependencies).Value;
        Assert.Equal(
            new[] { "FSharp.Core", "FunctionalBackprop", "FunctionalBackprop.Core", "FunctionalBackprop.Onnx", "Microsoft.ML", "Microsoft.ML.OnnxRuntime", "Microsoft.ML.OnnxTransformer" },
            dependencies.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void TheSymbolPackageMapsEverySourceFileToTheRepository(string id)
    {
        var package = packed.Packages[id];
        Assert.Contains($"lib/net10.0/{id}.pdb", package.SymbolFiles);
        using var pdb = MetadataReaderProvider.FromPortablePdbStream(new MemoryStream(package.ReadEntry(package.SymbolsPath, $"lib/net10.0/{id}.pdb")));
        var reader = pdb.GetMetadataReader();
        var sourceLink = reader.CustomDebugInformation
            .Select(reader.GetCustomDebugInformation)
            .Where(info => reader.GetGuid(info.Kind) == SourceLinkKind)
            .Select(info => System.Text.Encoding.UTF8.GetString(reader.GetBlobBytes(info.Value)))
            .SingleOrDefault();
        Assert.True(sourceLink is not null, $"{id}.pdb has no SourceLink map.");
        var repository = packed.Packages[id].Element("repository")!;
        var owner = new Uri(repository.Attribute("url")!.Value).AbsolutePath.Trim('/');
        Assert.Contains($"https://raw.githubusercontent.com/{owner}/{repository.Attribute("commit")!.Value}/", sourceLink);
        Assert.True(reader.Documents.Count > 5, $"{id}.pdb names only {reader.Documents.Count} source files.");
    }
}
