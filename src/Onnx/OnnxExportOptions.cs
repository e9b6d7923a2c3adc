using System;

namespace FunctionalBackprop.Onnx;

/// <summary>
/// Which ONNX versions an exported file declares. The defaults, opset 13 and IR version 7 (ONNX
/// 1.8, 2020), are read by every ONNX Runtime since 1.6 and by most other ONNX consumers of the
/// last five years; raise them only for a consumer that asks for newer ones.
/// </summary>
public sealed record OnnxExportOptions
{
    private readonly int opset = 13;
    private readonly long irVersion = 7;

    /// <summary>The defaults: opset 13, IR version 7.</summary>
    public static OnnxExportOptions Default { get; } = new();

    /// <summary>
    /// The ai.onnx opset the graph imports, 9 to 21 (default 13). Below 13 the softmax is written
    /// with axis 1, which means the same on the two-dimensional [batch, units] tensor; a softmax over
    /// a whole image (C·H·W values) has an ONNX form only below 13.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside 9 … 21.</exception>
    public int Opset
    {
        get => opset;
        init => opset = value is >= OnnxFormat.MinimumOpset and <= OnnxFormat.MaximumOpset
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Opset), value, $"The exporter writes opsets {OnnxFormat.MinimumOpset} to {OnnxFormat.MaximumOpset}.");
    }

    /// <summary>
    /// The IR version the model declares, 4 to 10 (default 7). It must be at least the version that
    /// introduced <see cref="Opset"/> (opset 9 needs IR 4, 13 needs 7, 15 needs 8, 19 needs 9,
    /// 21 needs 10); this is checked when the file is written.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside 4 … 10.</exception>
    public long IrVersion
    {
        get => irVersion;
        init => irVersion = value >= 4 && value <= OnnxFormat.MaximumWrittenIrVersion
            ? value
            : throw new ArgumentOutOfRangeException(nameof(IrVersion), value, $"The exporter writes IR versions 4 to {OnnxFormat.MaximumWrittenIrVersion}.");
    }

    /// <summary>Throws ArgumentException when the IR version is older than the opset.</summary>
    internal void Check()
    {
        var least = OnnxFormat.MinimumIrVersionFor(Opset);
        if (IrVersion < least)
        {
            throw new ArgumentException($"Opset {Opset} needs IR version {least} or newer, but the options ask for IR version {IrVersion}.", "options");
        }
    }
}
