using System;
using System.Linq;
using Core = FunctionalBackprop.Core;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace FunctionalBackprop.Onnx.Import;

// The input's scaler x' = (x − offset)/scale, before the first layer, in the one form that computes
// what the library's scaler computes: in float64, rounded once to the graph's type. In a DOUBLE
// graph that is Sub(x, offset) then Div(·, scale); in a FLOAT graph Cast(x, DOUBLE), the same Sub
// and Div in DOUBLE, then Cast(·, FLOAT). The model's metadata names the kind (min-max or
// standard), which the arithmetic alone does not tell.
internal sealed partial class GraphReader<T>
{
    /// <summary>How an input scaler is read, for the messages that refuse other forms.</summary>
    private static string ScalerForm =>
        $"an input scaler is read as Sub(x, offset) then Div(·, scale) with DOUBLE constants, computed in float64 " +
        $"(in a FLOAT graph between Cast(x, DOUBLE) and Cast(·, FLOAT)), before the first layer, with its kind in the model's metadata property '{OnnxFormat.ScalerProperty}'";

    /// <summary>Cast(x, DOUBLE) in a FLOAT graph: the start of the input's scaler.</summary>
    private Value Widen(NodeReader r, DataValue<T> data)
    {
        if (data.Stage is Features<T> && data.Layers.IsEmpty && data.Scaler is null)
        {
            return data with { Stage = Widened<T>.Instance };
        }

        throw r.Unsupported($"casts {Describe(data)} to DOUBLE; the graph computes in FLOAT, and a Cast to DOUBLE is read only where an input scaler starts: {ScalerForm}");
    }

    /// <summary>Sub(x, offset): the first half of the input's scaler.</summary>
    private Value Sub(NodeReader r)
    {
        var (data, offset) = Operands(r, "offset", "x − offset");
        if (!data.Layers.IsEmpty || data.Scaler is not null || data.Stage is not (Features<T> or Widened<T>))
        {
            throw r.Unsupported($"subtracts a constant from {Describe(data)}; Sub is read only as x − offset, where {ScalerForm}");
        }

        if (typeof(T) == typeof(float) && data.Stage is Features<T>)
        {
            throw r.Unsupported(
                "subtracts an offset from the input x in FLOAT (float32) arithmetic: (x − offset)/scale rounded to float32 after each " +
                "step differs from the library's scaler, which computes in float64 and rounds once, so this graph cannot be read exactly; " +
                ScalerForm);
        }

        if (scalerKind is null)
        {
            throw r.Unsupported(
                $"subtracts an offset from the input x, as an input scaler does, but the model does not say which scaler it is (min-max or standard): " +
                $"FunctionalBackprop reads the kind from the model's metadata property '{OnnxFormat.ScalerProperty}', which its exporter writes");
        }

        var image = data.Image is null ? null : data.ExampleShape;
        var offsets = image is null ? PerFeature(r, offset, Features(r, data), "offset") : PerValue(r, offset, image, "offset");
        return data with { Stage = new Centred<T>(offsets, Wide: data.Stage is Widened<T>), ExampleShape = image ?? new long[] { offsets.Length } };
    }

    /// <summary>Div(x − offset, scale): the second half of the input's scaler.</summary>
    private Value Div(NodeReader r)
    {
        var (data, scale) = Operands(r, "scale", "(x − offset)/scale");
        if (data.Stage is not Centred<T> centred)
        {
            throw r.Unsupported($"divides {Describe(data)} by a constant; Div is read only as (x − offset)/scale right after the Sub, where {ScalerForm}");
        }

        var scales = data.Image is null ? PerFeature(r, scale, centred.Offsets.Length, "scale") : PerValue(r, scale, data.ExampleShape!, "scale");
        for (var i = 0; i < scales.Length; i++)
        {
            if (!(scales[i] > 0))
            {
                throw r.Unsupported($"divides feature {i} by {scales[i]}; a scaler's scales are positive");
            }
        }

        var scaler = Core.ScalerModule.create(scalerKind!, centred.Offsets, scales);
        return centred.Wide
            ? data with { Stage = new Rescaled<T>(scaler) }
            : data with { Stage = Features<T>.Instance, Scaler = scaler };
    }

    /// <summary>A scaler step's operands: the data first, then a constant (its <paramref name="role"/>).</summary>
    private (DataValue<T> Data, ConstantValue Constant) Operands(NodeReader r, string role, string readAs)
    {
        r.Arity(2, 2, 1, 1);
        if (Required(r, 0) is not DataValue<T> && Required(r, 1) is DataValue<T>)
        {
            throw r.Unsupported($"takes the data computed from x as its second operand; {r.Node.OpType} is read only as {readAs}, where {ScalerForm}");
        }

        return (Data(r, 0), Constant(r, 1, role));
    }

    /// <summary>The number of features of [batch, n] data, or −1 when the file does not give n.</summary>
    private static long Features(NodeReader r, DataValue<T> data) =>
        data.Width ?? throw r.Unsupported($"scales data of rank {data.ExampleShape!.Length + 1}; an input scaler is read on [batch, n], or on images [batch, C, H, W] whose C, H and W the file gives");

    /// <summary>
    /// One float64 value per value of an image C × H × W (in C-H-W order, as the scaler's features)
    /// from a DOUBLE constant that broadcasts along the batch: [C, H, W], [1, C, H, W], or one value
    /// (all dims 1) for every feature.
    /// </summary>
    private static double[] PerValue(NodeReader r, ConstantValue c, long[] image, string role)
    {
        var what = $"{r.Description}'s {role} {c.Origin}";
        var dims = Tensors.Shape(c.Tensor, what);
        var size = image.Aggregate(1L, (product, d) => product * d);
        var single = dims.Length <= 4 && dims.All(d => d == 1);
        if (!single && !dims.SequenceEqual(image) && !(dims.Length == 4 && dims[0] == 1 && dims.Skip(1).SequenceEqual(image)))
        {
            throw r.Unsupported($"takes the {role} {c.Origin} of shape [{string.Join(", ", dims)}]; on images [batch, {string.Join(", ", image)}] a scaler's {role} is one value per input value ([C, H, W] or [1, C, H, W]) or one for all");
        }

        return PerFeature(r, new ConstantValue(Flat(c.Tensor, single ? 1 : size), c.Origin), size, role);
    }

    /// <summary>The tensor's message with its dims replaced by [n] (its values are the same, in the same order).</summary>
    private static global::Onnx.TensorProto Flat(global::Onnx.TensorProto tensor, long n)
    {
        var flat = tensor.Clone();
        flat.Dims.Clear();
        flat.Dims.Add(n);
        return flat;
    }

    /// <summary>
    /// One float64 value per feature from a DOUBLE constant that broadcasts along the batch:
    /// [n], [1, n], or one value ([], [1], [1, 1]) for every feature.
    /// </summary>
    private static double[] PerFeature(NodeReader r, ConstantValue c, long features, string role)
    {
        var what = $"{r.Description}'s {role} {c.Origin}";
        var dims = Tensors.Shape(c.Tensor, what);
        var shape = $"[{string.Join(", ", dims)}]";
        var width = features < 0 ? "?" : features.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (c.Tensor.DataType != (int)DataType.Double)
        {
            throw r.Invalid($"takes the {role} {c.Origin} in {OnnxFormat.TypeName(c.Tensor.DataType)}, but computes in DOUBLE (float64), as an input scaler does; both operands have one type.");
        }

        var single = dims.Length <= 2 && dims.All(d => d == 1);
        var perFeature = dims.Length == 1 || (dims.Length == 2 && dims[0] == 1);
        if (!single && (!perFeature || (features >= 0 && dims[^1] != features)))
        {
            throw dims.Length <= 2 && (dims.Length < 2 || dims[0] == 1)
                ? r.Invalid($"takes the {role} {c.Origin} of shape {shape}, which does not broadcast to [batch, {width}].")
                : r.Unsupported($"takes the {role} {c.Origin} of shape {shape}; a scaler's {role} is one value per feature ([n] or [1, n]) or one for all");
        }

        if (single && features < 0)
        {
            throw r.Unsupported($"takes a single {role} for inputs whose width the file does not give; give the input's shape [batch, n] or one {role} per feature");
        }

        var values = Tensors.Reals<double>(c.Tensor, what);
        if (!single || features == 1)
        {
            return values;
        }

        var repeated = new double[features];
        Array.Fill(repeated, values[0]);
        return repeated;
    }

    /// <summary>What the data is, for messages: "the input x", "the output of layer 2", "layer 1's weighted input z", …</summary>
    private static string Describe(DataValue<T> data) => data.Stage switch
    {
        Features<T> when data.Layers.IsEmpty && data.Scaler is null => "the input x",
        Features<T> when data.Layers.IsEmpty => "the input x already scaled",
        Features<T> => $"the output of layer {data.Layers.Count}",
        Open<T> z => $"the weighted input z of {z.Node}",
        Padded<T> => "an image padded with zeros",
        Compared<T> => "the comparison z > 0",
        Scaled<T> => "α·z",
        Widened<T> => "the input x cast to DOUBLE",
        Centred<T> => "x − offset",
        Rescaled<T> => "the scaled input in DOUBLE",
        _ => throw new InvalidOperationException($"No description for the stage {data.Stage}."),
    };
}
