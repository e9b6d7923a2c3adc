using System.Linq;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Onnx.Import;

// What the layers on images share: their input read as an image [batch, C, H, W] of known size,
// with the zeros of a Pad before it, and their settings checked by the core's own rules.
internal sealed partial class GraphReader<T>
{
    /// <summary>
    /// Input 0 as an image whose C, H and W the file gives, with its open layer completed; and the
    /// pads (top, left, bottom, right) of a Pad of zeros just before the node, or null for none.
    /// </summary>
    private (DataValue<T> Data, long[]? Padded) Windowed(NodeReader r, string does)
    {
        var input = Data(r, 0);
        var (data, padded) = input.Stage is Padded<T> pad ? (input with { Stage = Features<T>.Instance }, pad.Pads) : (Closed(r, input), null);
        if (data.Image is null)
        {
            throw r.Unsupported($"{does} {Describe(data)}, of shape [batch, {Dims(data.ExampleShape)}]; it is read on images [batch, C, H, W] whose C, H and W the file gives");
        }

        ShapeOf(r, data.ExampleShape!, "takes an image that");
        return (data, padded);
    }

    /// <summary>"1, 28, 28", "?" for an unknown dim, "…" for an unknown rank.</summary>
    private static string Dims(long[]? shape) => shape is null ? "…" : string.Join(", ", shape.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>The core's shape of one example of known dims; refused, naming the node, beyond 2³⁰ values.</summary>
    private static Core.Shape ShapeOf(NodeReader r, long[] dims, string what) =>
        SizeProblem(dims) is { } problem ? throw r.Unsupported($"{what} {problem}") : ShapeOf(dims);

    /// <summary>The layer of the spec on inputs of this shape with its tensors (none for pooling), after the core's rules (refused naming the node).</summary>
    private static Core.Layer<T> Made(NodeReader r, Core.LayerSpec spec, Core.Shape input, Core.Matrix<T>[]? parameters = null, Core.Matrix<T>[]? state = null)
    {
        Check(r, spec, input);
        return Core.Layer.ofTensors(spec, input, ListModule.OfArray(parameters ?? []), ListModule.OfArray(state ?? []));
    }

    /// <summary>Refuses, naming the node, a layer whose settings or input the core's rules do not allow.</summary>
    private static void Check(NodeReader r, Core.LayerSpec spec, Core.Shape input)
    {
        var problem = Core.LayerSpecModule.problem(spec) ?? Core.LayerSpecModule.inputProblem(spec, input);
        if (FSharpOption<string>.get_IsSome(problem))
        {
            throw r.Unsupported($"is read as a layer the library does not allow: {problem.Value.TrimEnd('.')}");
        }
    }
}
