using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using FunctionalBackprop.Onnx;
using Microsoft.ML.OnnxRuntime;
using Xunit;
using Xunit.Abstractions;
using static FunctionalBackprop.Tests.Onnx.OnnxTesting;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>
/// Exported networks of the kinds that take images (Conv, MaxPool, AveragePool, Flatten,
/// BatchNormalization in inference) run in ONNX Runtime and give the library's forward pass, to
/// the tolerances of <see cref="OnnxRuntimeAgreementTests"/>: 10⁻⁶ (float32) and 10⁻¹² (float64)
/// relative to the scale of each example's sums. ONNX Runtime computes a convolution by its own
/// im2col and GEMM, pools and normalises with its own kernels (batch normalisation as x·s + t with
/// s = γ/√(σ² + ε), folded in T), so the two agree to rounding, not bit for bit. ONNX Runtime 1.31
/// has no float64 kernel for Conv and AveragePool; float64 networks of the other kinds run.
/// </summary>
public sealed class OnnxRuntimeImageAgreementTests(ITestOutputHelper output)
{
    public static TheoryData<string, int> Kinds() => WithBatches(ImageNetworks.Names);

    /// <summary>The kinds whose networks ONNX Runtime runs in float64.</summary>
    public static TheoryData<string, int> Float64Kinds() => WithBatches(ImageNetworks.Names.Where(k => ImageNetworks.RunsInFloat64(ImageNetworks.Network<double>(k, 1))));

    /// <summary>Each kind with a batch of one and a batch of 100.</summary>
    private static TheoryData<string, int> WithBatches(IEnumerable<string> kinds)
    {
        var data = new TheoryData<string, int>();
        foreach (var kind in kinds)
        {
            data.Add(kind, 1);
            data.Add(kind, 100);
        }

        return data;
    }

    private void Agree<T>(Core.Network<T> network, string what, int batch, OnnxExportOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var inputs = Inputs<T>(batch, network.InputWidth, seed: 31);
        var ours = Predict(network, inputs);
        var runtime = RunInOnnxRuntime(Export(network, options), inputs, example: ImageNetworks.Dims(network.InputShape));
        var difference = RelativeDifference(ours, runtime, Scales(network, inputs));
        output.WriteLine($"{typeof(T).Name} {what} ({network}), batch {batch}, opset {(options ?? OnnxExportOptions.Default).Opset}: largest difference from ONNX Runtime {Differences(ours, runtime, difference)}");
        Assert.True(difference <= Tolerance<T>(), $"{typeof(T).Name} {what}: ONNX Runtime differs from the library by {difference:G3} relative (tolerance {Tolerance<T>():G1})");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Float32ImageNetworksRunInOnnxRuntimeAsTheLibraryComputes(string kind, int batch) =>
        Agree(ImageNetworks.Network<float>(kind, 41), kind, batch);

    [Theory]
    [MemberData(nameof(Float64Kinds))]
    public void Float64ImageNetworksRunInOnnxRuntimeAsTheLibraryComputes(string kind, int batch) =>
        Agree(ImageNetworks.Network<double>(kind, 43), kind, batch);

    [Fact]
    public void OnnxRuntimeHasNoFloat64ConvOrAveragePoolKernel()
    {
        // If this fails, ONNX Runtime has gained the kernels: run every kind in Float64ImageNetworks… and say so in docs/onnx.md.
        foreach (var kind in new[] { "conv2d", "avgpool2d" })
        {
            var e = Assert.ThrowsAny<OnnxRuntimeException>(() => new InferenceSession(Export(ImageNetworks.Network<double>(kind, 47))).Dispose());
            Assert.Contains("NotImplemented", e.Message);
        }
    }

    public static TheoryData<string> Activations()
    {
        var data = new TheoryData<string>();
        foreach (var name in OnnxTesting.Activations.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    /// <summary>Each activation on a convolution's 4-D output (softmax over each example's C·H·W values, which ONNX writes before opset 13).</summary>
    [Theory]
    [MemberData(nameof(Activations))]
    public void EveryActivationOnAConvolutionRunsInOnnxRuntime(string activation)
    {
        var σ = OnnxTesting.Activations[activation].ToCore();
        var network = ImageNetworks.Network<float>(
            Core.Shape.NewImage(2, 6, 5), 53,
            Core.LayerSpec.NewConv2D(3, new Core.Window(3, 3), new Core.Window(1, 2), new Core.Window(1, 1), σ, Microsoft.FSharp.Core.FSharpOption<Core.Initializer>.Some(Core.Initializer.XavierNormal)),
            Core.LayerSpec.NewActivation(σ));
        Agree(network, $"conv2d then {activation}", 100, σ.IsSoftmax ? new OnnxExportOptions { Opset = 11, IrVersion = 6 } : null);
    }

    [Theory]
    [MemberData(nameof(WrittenOpsets), MemberType = typeof(OnnxTesting))]
    public void EveryWrittenOpsetRunsALeNetInOnnxRuntime(int opset, long irVersion) =>
        Agree(ImageNetworks.Network<float>("lenet", 59), "lenet", 10, new OnnxExportOptions { Opset = opset, IrVersion = irVersion });

}
