using System.Linq;
using System.Numerics;
using FunctionalBackprop.Onnx;
using Xunit;
using Xunit.Abstractions;
using static FunctionalBackprop.Tests.Onnx.OnnxTesting;

namespace FunctionalBackprop.Tests.Onnx;

/// <summary>
/// Exported files run in ONNX Runtime and give the library's Predict: for every activation (on
/// dense layers and as layers of its own), networks with dropout (none in inference), both
/// element types, a batch of one and a batch of many, to 10⁻⁶ (float32) and 10⁻¹² (float64)
/// relative to the scale of each example's sums (<see cref="OnnxTesting.Scales{T}"/>). The two
/// compute the same formulas with different kernels (summation order, ONNX Runtime's own exp, tanh
/// and logistic), so they agree to rounding, not bit for bit.
/// </summary>
public sealed class OnnxRuntimeAgreementTests(ITestOutputHelper output)
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in Activations.Keys)
        {
            data.Add(name, 1);
            data.Add(name, 100);
        }

        return data;
    }

    private void Agree<T>(string activation, int batch, OnnxExportOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Agree(Network<T>(Activations[activation], seed: 17), activation, batch, options);

    private void Agree<T>(NeuralNetwork<T> network, string activation, int batch, OnnxExportOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var inputs = AwayFromSteps(network, Inputs<T>(batch, network.InputWidth, seed: 23));
        Assert.True(inputs.Length >= (batch + 1) / 2, $"only {inputs.Length} of {batch} examples lie away from a step's threshold");
        var ours = network.Predict(inputs);
        var runtime = RunInOnnxRuntime(Export(network, options), inputs);
        var difference = RelativeDifference(ours, runtime, Scales(network, inputs));
        output.WriteLine($"{typeof(T).Name} {activation} ({network}), batch {inputs.Length}, opset {(options ?? OnnxExportOptions.Default).Opset}: largest relative difference {difference:G3}");
        Assert.True(difference <= Tolerance<T>(), $"{typeof(T).Name} {activation}: ONNX Runtime differs from Predict by {difference:G3} relative (tolerance {Tolerance<T>():G1})");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float32FilesRunInOnnxRuntimeAsPredictComputes(string activation, int batch) => Agree<float>(activation, batch);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float64FilesRunInOnnxRuntimeAsPredictComputes(string activation, int batch) => Agree<double>(activation, batch);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float32ActivationLayersRunInOnnxRuntimeAsPredictComputes(string activation, int batch) =>
        Agree(ActivationLayers<float>(Activations[activation], seed: 19), activation, batch);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float64ActivationLayersRunInOnnxRuntimeAsPredictComputes(string activation, int batch) =>
        Agree(ActivationLayers<double>(Activations[activation], seed: 19), activation, batch);

    public static TheoryData<string, bool> DropoutCases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in Activations.Keys)
        {
            data.Add(name, false);
            data.Add(name, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DropoutCases))]
    public void Float32DropoutLayersRunInOnnxRuntimeAsPredictComputes(string activation, bool last) =>
        Agree(DropoutLayers<float>(Activations[activation], seed: 29, last), activation, 100);

    [Theory]
    [MemberData(nameof(DropoutCases))]
    public void Float64DropoutLayersRunInOnnxRuntimeAsPredictComputes(string activation, bool last) =>
        Agree(DropoutLayers<double>(Activations[activation], seed: 29, last), activation, 100);

    [Theory]
    [MemberData(nameof(WrittenOpsets), MemberType = typeof(OnnxTesting))]
    public void EveryWrittenOpsetRunsInOnnxRuntime(int opset, long irVersion)
    {
        var options = new OnnxExportOptions { Opset = opset, IrVersion = irVersion };
        foreach (var activation in Activations.Keys)
        {
            Agree<float>(activation, 10, options);
            Agree<double>(activation, 10, options);
        }
    }
}
