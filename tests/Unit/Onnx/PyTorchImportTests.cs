using System;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Text.Json;
using FunctionalBackprop.Onnx;
using Xunit;
using Xunit.Abstractions;
using static FunctionalBackprop.Tests.Onnx.OnnxTesting;
using Core = FunctionalBackprop.Core;
using Proto = global::Onnx;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>
/// Files written by PyTorch's torch.onnx.export (Debian's 1.13; scripts/onnx/export_pytorch_models.py)
/// load as the networks PyTorch built and give PyTorch's outputs: Gemm with transB = 1, MatMul + Add,
/// MatMul without bias, Flatten, Reshape, initializers listed as inputs, and LeNet-style networks of
/// Conv, MaxPool, AveragePool (with padding: a Pad of zeros then an AveragePool), BatchNormalization
/// after a Linear (and one after a Conv, which PyTorch folds into the Conv), opsets 9 to 17, IR 4 to
/// 8, float32 and float64. They are read through the core's API (OnnxNetwork), which the C#
/// OnnxModel wraps. Tolerances are the issue's, 10⁻⁶ (float32) and 10⁻¹² (float64) relative to each
/// example's scale (<see cref="OnnxTesting.Scales{T}(Core.Network{T}, T[][])"/>): PyTorch sums in
/// another order (its own GEMM and convolution) and has its own exp and tanh, so agreement is to a
/// few roundings at the scale of the sums, not bit for bit; float64 roundings are 2⁻⁵³ ≈ 10⁻¹⁶,
/// leaving a margin of several hundred.
/// </summary>
public sealed class PyTorchImportTests(ITestOutputHelper output)
{
    private sealed record Case(string File, string ElementType, int Opset, string[] Layers, double[][] Inputs, double[][] Outputs);

    private sealed record Manifest(string Torch, Case[] Cases);

    private static readonly Lazy<Manifest> Data = new(() =>
        JsonSerializer.Deserialize<Manifest>(File.ReadAllText(Path.Combine(DataFolder, "cases.json")), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!);

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var c in Data.Value.Cases)
        {
            data.Add(c.File);
        }

        return data;
    }

    private static Case Named(string file) => Data.Value.Cases.Single(c => c.File == file);

    private void Check<T>(Case c, Core.Network<T> network)
        where T : IFloatingPointIeee754<T>
    {
        Assert.Equal(c.Layers, network.Layers.Select(l => l.ToString()).ToArray());
        var inputs = c.Inputs.Select(row => row.Select(v => T.CreateTruncating(v)).ToArray()).ToArray();
        var expected = c.Outputs.Select(row => row.Select(v => T.CreateTruncating(v)).ToArray()).ToArray();
        var ours = Predict(network, inputs);
        var difference = RelativeDifference(ours, expected, Scales(network, inputs));
        output.WriteLine($"{c.File} as {typeof(T).Name}: largest difference from PyTorch {Differences(ours, expected, difference)}");
        Assert.True(difference <= Tolerance<T>(), $"{c.File}: {difference:G3} relative from PyTorch's outputs (tolerance {Tolerance<T>():G1})");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void PyTorchsExportLoadsAsTheNetworkPyTorchRan(string file)
    {
        var c = Named(file);
        var path = Path.Combine(DataFolder, file);
        if (c.ElementType == "float32")
        {
            Check(c, OnnxNetwork.Load<float>(path));
        }
        else
        {
            Check(c, OnnxNetwork.Load<double>(path));
            var e = Assert.Throws<InvalidDataException>(() => OnnxNetwork.Load<float>(path));
            Assert.Contains("load it as double", e.Message);
        }
    }

    [Fact]
    public void AFloat32FileLoadsAsDoubleByWideningEveryParameterExactly()
    {
        foreach (var c in Data.Value.Cases.Where(c => c.ElementType == "float32"))
        {
            var path = Path.Combine(DataFolder, c.File);
            var single = OnnxNetwork.Load<float>(path);
            var widened = OnnxNetwork.Load<double>(path);
            Assert.Equal(Bits(single), Bits(widened));
            Assert.Equal(single.Layers.Select(Core.Layer.spec), widened.Layers.Select(Core.Layer.spec));
        }
    }

    [Fact]
    public void TheCasesCoverBothElementTypesSeveralOpsetsAndEveryImageKind()
    {
        var cases = Data.Value.Cases;
        Assert.Contains(cases, c => c.ElementType == "float32");
        Assert.Contains(cases, c => c.ElementType == "float64");
        Assert.True(cases.Select(c => c.Opset).Distinct().Count() >= 4, "fewer than four opsets among the PyTorch cases");
        Assert.Contains(cases, c => c.File.StartsWith("matmul-", StringComparison.Ordinal));
        Assert.Contains(cases, c => c.File.StartsWith("gemm-", StringComparison.Ordinal));
        var images = cases.Where(c => c.File.StartsWith("lenet-", StringComparison.Ordinal)).ToArray();
        Assert.Equal(new[] { 9, 11, 13, 17 }, images.Select(c => c.Opset).Distinct().Order());
        Assert.Contains(images, c => c.ElementType == "float64");
        foreach (var kind in new[] { "conv ", "maxpool ", "avgpool ", "flatten", "batchnorm(" })
        {
            Assert.Contains(images, c => c.Layers.Any(l => l.StartsWith(kind, StringComparison.Ordinal)));
        }
    }

    [Fact]
    public void ABatchNormalisationAfterAConvIsFoldedByPyTorchAndOneAfterALinearStays()
    {
        var folded = Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(DataFolder, "lenet-batchnorm-conv-folded-float32-opset11.onnx")));
        var kept = Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(DataFolder, "lenet-batchnorm-linear-float32-opset17.onnx")));
        Assert.DoesNotContain(folded.Graph.Node, n => n.OpType == "BatchNormalization");
        Assert.Equal("Gemm", kept.Graph.Node.TakeWhile(n => n.OpType != "BatchNormalization").Last().OpType);
    }

    [Fact]
    public void PyTorchsPaddedAveragePoolingIsAPadOfZerosThenAnAveragePool()
    {
        foreach (var file in new[] { "lenet-avgpool-padded-float32-opset9.onnx", "lenet-avgpool-padded-float32-opset13.onnx" })
        {
            var model = Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(DataFolder, file)));
            var pool = model.Graph.Node.First(n => n.OpType == "AveragePool");
            Assert.Equal("Pad", model.Graph.Node.Single(n => n.Output.Contains(pool.Input[0])).OpType);
        }
    }
}
