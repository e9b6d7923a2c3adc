using System.Linq;
using FunctionalBackprop.Onnx;
using FunctionalBackprop.Tests.Facade;
using Xunit;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>The ONNX package's C# API meets no F# type; only OnnxNetwork, made for the F# core, takes the core's networks.</summary>
public class OnnxPublicApiTests
{
    [Fact]
    public void OnlyOnnxNetworkMentionsTheCore()
    {
        var offences = typeof(OnnxModel).Assembly.GetExportedTypes()
            .Where(t => t != typeof(OnnxNetwork))
            .SelectMany(PublicApiTests.Signatures)
            .SelectMany(s => PublicApiTests.Mentioned(s.Type).Where(PublicApiTests.IsForeign).Select(t => $"{s.Where}: {t.FullName}"))
            .Distinct()
            .ToList();
        Assert.True(offences.Count == 0, "F# or core types in the ONNX package's C# API:\n" + string.Join("\n", offences));
    }

    [Fact]
    public void ThePublicTypesAreTheThreeDocumentedOnesAndNoProtobufClass()
    {
        var names = typeof(OnnxModel).Assembly.GetExportedTypes().Select(t => t.FullName).OrderBy(n => n).ToArray();
        Assert.Equal(new[] { "FunctionalBackprop.Onnx.OnnxExportOptions", "FunctionalBackprop.Onnx.OnnxModel", "FunctionalBackprop.Onnx.OnnxNetwork" }, names);
    }
}
