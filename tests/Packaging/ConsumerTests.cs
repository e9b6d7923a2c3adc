using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using FunctionalBackprop.Build;
using Xunit;

namespace FunctionalBackprop.Packaging;

/// <summary>
/// The packages as a user gets them: a fresh C# console project and a fresh F# console project,
/// made by `dotnet new` outside the repository, install the packages with `dotnet add package`
/// from the packed folder (and their third-party dependencies from the machine's registry, into
/// a package cache of their own), then build and run README.md's quick starts and print what
/// README.md says they print; the C# one also saves its network through FunctionalBackprop.Onnx
/// and loads it back. A third runs README's ML.NET example on FunctionalBackprop.MLNet. Nothing of the repository reaches them but the packages.
/// </summary>
[Collection(PackagesCollection.Name)]
public class ConsumerTests
{
    private readonly PackedLibraries packed;
    private readonly string root;
    private readonly Dictionary<string, string> environment;

    public ConsumerTests(PackedLibraries packed)
    {
        this.packed = packed;
        root = Directory.CreateDirectory(Path.Combine(packed.Folder, "consumers")).FullName;
        var cache = Path.Combine(packed.Folder, "nuget-packages");

        // MSBuild looks for Directory.Build.props/.targets and Directory.Packages.props in every
        // folder above a project: empty ones here keep anything above the temporary folder out.
        foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            File.WriteAllText(Path.Combine(root, file), "<Project />\n");
        }

        File.WriteAllText(Path.Combine(root, "nuget.config"), NuGetConfig(packed.Feed, MachineSources(), cache));
        environment = new Dictionary<string, string>
        {
            ["NUGET_PACKAGES"] = cache,
            // The managed matrix product: the output is then the same whatever BLAS the machine
            // has (or lacks); the tests in tests/ cover the native one.
            ["FUNCTIONALBACKPROP_GEMM"] = "managed",
        };
    }

    /// <summary>The package sources this machine's NuGet uses (its user and machine configuration), for third-party packages.</summary>
    private IReadOnlyList<string> MachineSources()
    {
        var listed = Command.Run(root, "dotnet", ["nuget", "list", "source", "--format", "short"]);
        var sources = listed.Split('\n').Select(line => line.Trim()).Where(line => line.StartsWith("E ", StringComparison.Ordinal)).Select(line => line[2..].Trim()).ToList();
        Assert.True(sources.Count > 0, $"This machine's NuGet has no enabled package source:\n{listed}");
        return sources;
    }

    /// <summary>
    /// The packed folder for this project's packages and only for them (package source mapping),
    /// the machine's sources for everything else, and a package cache of this run's own, so that
    /// no package of the same version packed earlier can stand in for these.
    /// </summary>
    private static string NuGetConfig(string feed, IReadOnlyList<string> machineSources, string cache)
    {
        var sources = new XElement("packageSources", new XElement("clear"), new XElement("add", new XAttribute("key", "packed"), new XAttribute("value", feed)));
        var mapping = new XElement("packageSourceMapping",
            new XElement("packageSource", new XAttribute("key", "packed"),
                new XElement("package", new XAttribute("pattern", "FunctionalBackprop")),
                new XElement("package", new XAttribute("pattern", "FunctionalBackprop.*"))));
        for (var i = 0; i < machineSources.Count; i++)
        {
            sources.Add(new XElement("add", new XAttribute("key", $"machine{i}"), new XAttribute("value", machineSources[i])));
            mapping.Add(new XElement("packageSource", new XAttribute("key", $"machine{i}"), new XElement("package", new XAttribute("pattern", "*"))));
        }

        var config = new XElement("configuration",
            new XElement("config", new XElement("add", new XAttribute("key", "globalPackagesFolder"), new XAttribute("value", cache))),
            sources,
            mapping);
        return config.ToString() + "\n";
    }

    /// <summary>`dotnet new console` in <paramref name="language"/>, then `dotnet add package` of each package at the packed version.</summary>
    private string NewProject(string name, string language, params string[] packages)
    {
        var folder = Path.Combine(root, name);
        Command.Run(root, "dotnet", ["new", "console", "--language", language, "--output", folder, "--name", name], environment);
        var version = packed.Packages[packages[0]].Version;
        foreach (var package in packages)
        {
            Command.Run(folder, "dotnet", ["add", "package", package, "--version", version], environment);
        }

        return folder;
    }

    private string Run(string folder) =>
        Command.Run(folder, "dotnet", ["run", "--configuration", "Release"], environment);

    [Fact]
    public void ACSharpConsoleAppRunsReadmesCSharpQuickStart()
    {
        var folder = NewProject("CSharpQuickStart", "C#", "FunctionalBackprop", "FunctionalBackprop.Onnx");
        var quickStart = ReadmeSections.Block(Repository.Readme(), "C# quick start", "csharp");
        Assert.False(string.IsNullOrWhiteSpace(quickStart), "README.md's section \"C# quick start\" has no ```csharp block.");

        // README's code as it stands, then what the saved file loads back as, and the same
        // network through an ONNX file (the ONNX package, with its dependencies as NuGet resolves them).
        File.WriteAllText(Path.Combine(folder, "Program.cs"),
            quickStart + """

            Console.WriteLine($"loaded: {string.Join(", ", loaded.Classify(inputs))}");
            var onnx = Path.Combine(Path.GetTempPath(), $"xor-{Environment.ProcessId}.onnx");
            FunctionalBackprop.Onnx.OnnxModel.Save(loaded, onnx);
            var fromOnnx = FunctionalBackprop.Onnx.OnnxModel.Load<double>(onnx);
            File.Delete(onnx);
            Console.WriteLine($"through ONNX: {string.Join(", ", fromOnnx.Classify(inputs))}, same outputs: {fromOnnx.Predict(inputs).SelectMany(y => y).SequenceEqual(loaded.Predict(inputs).SelectMany(y => y))}");

            """);
        var output = Run(folder);

        // README prints the final training loss and the network's classes of the four XOR inputs.
        var printed = Regex.Match(output, @"^(\d+\.\d{4}): 0, 1, 1, 0$", RegexOptions.Multiline);
        Assert.True(printed.Success, $"The quick start did not print its loss and the XOR classes 0, 1, 1, 0:\n{output}");
        Assert.True(double.Parse(printed.Groups[1].Value, CultureInfo.InvariantCulture) < 0.1, $"The final loss is not small:\n{output}");
        Assert.Contains("loaded: 0, 1, 1, 0", output);
        Assert.Contains("through ONNX: 0, 1, 1, 0, same outputs: True", output);

        // A C# project takes the lowest FSharp.Core the packages allow: the quick start ran on it.
        var assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "obj", "project.assets.json")));
        var fsharpCore = assets.RootElement.GetProperty("libraries").EnumerateObject().Single(l => l.Name.StartsWith("FSharp.Core/", StringComparison.Ordinal)).Name;
        Assert.Equal("FSharp.Core/" + packed.Packages["FunctionalBackprop.Core"].Dependencies["net10.0"]["FSharp.Core"], fsharpCore);
    }

    [Fact]
    public void ACSharpConsoleAppRunsReadmesMLNetExample()
    {
        var folder = NewProject("MLNetExample", "C#", "FunctionalBackprop.MLNet");
        var example = ReadmeSections.Block(Repository.Readme(), "From ML.NET", "csharp");
        Assert.False(string.IsNullOrWhiteSpace(example), "README.md's section \"From ML.NET\" has no ```csharp block.");

        // README's code as it stands, reading the digits by the same relative path as in the repository.
        File.WriteAllText(Path.Combine(folder, "Program.cs"), example);
        var data = Directory.CreateDirectory(Path.Combine(folder, "data", "digits")).FullName;
        File.Copy(Path.Combine(Repository.Root, "data", "digits", "digits.csv"), Path.Combine(data, "digits.csv"));
        var output = Run(folder);

        // README prints ML.NET's accuracy and log-loss, its confusion table, then a prediction of the
        // model loaded back from ML.NET's model file.
        // (Percentages as the machine's culture writes them: "90.68 %", "90.68%", "90,68 %".)
        var metrics = Regex.Match(output, @"^accuracy (\d+[.,]\d+)\s?%, log-loss (\d+[.,]\d{4})\s*$", RegexOptions.Multiline);
        Assert.True(metrics.Success, $"The example printed no accuracy and log-loss:\n{output}");
        Assert.True(double.Parse(metrics.Groups[1].Value.Replace(',', '.'), CultureInfo.InvariantCulture) >= 88, $"The accuracy is low:\n{output}");
        Assert.Contains("Confusion table", output);
        Assert.Matches(@"(?m)^the first test digit is a \d, predicted \d$", output);
    }

    [Fact]
    public void AnFSharpConsoleAppRunsReadmesFSharpQuickStart()
    {
        var folder = NewProject("FSharpQuickStart", "F#", "FunctionalBackprop.Core");
        var quickStart = ReadmeSections.Block(Repository.Readme(), "F# quick start", "fsharp");
        Assert.False(string.IsNullOrWhiteSpace(quickStart), "README.md's section \"F# quick start\" has no ```fsharp block.");
        File.WriteAllText(Path.Combine(folder, "Program.fs"), quickStart);
        var output = Run(folder);

        // README prints the gradient check's largest relative error, then the trained network's
        // outputs for the four XOR inputs (%A of an array, [|…|], or of a 1 × 4 matrix, [[…]]).
        var check = Regex.Match(output, @"largest relative error ([0-9.eE+-]+)");
        Assert.True(check.Success, $"The quick start printed no gradient check:\n{output}");
        Assert.True(double.Parse(check.Groups[1].Value, CultureInfo.InvariantCulture) < 1e-6, $"Backprop and finite differences disagree:\n{output}");
        var outputs = Regex.Match(output, @"\[[|\[](.*?)[|\]]\]", RegexOptions.Singleline);
        Assert.True(outputs.Success, $"The quick start printed no network outputs:\n{output}");
        var classes = outputs.Groups[1].Value.Split(';').Select(v => double.Parse(v.Trim(), CultureInfo.InvariantCulture) >= 0.5 ? 1 : 0);
        Assert.Equal(new[] { 0, 1, 1, 0 }, classes);
    }
}
