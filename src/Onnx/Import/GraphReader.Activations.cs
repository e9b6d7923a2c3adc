using System;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Onnx.Import;

// The activation that completes a layer, a = σ(z), in each form an exporter writes it.
internal sealed partial class GraphReader<T>
{
    private Value Activate(NodeReader r, Core.Activation activation)
    {
        r.Arity(1, 1, 1, 1);
        var data = Data(r, 0);
        OpenLayer(r, data);
        return Completed(data, activation);
    }

    /// <summary>Softmax over each example's units: axis 1 or −1 of [batch, units] (before opset 13, the 2-D coercion at axis 1).</summary>
    private Value Softmax(NodeReader r)
    {
        r.Arity(1, 1, 1, 1);
        var axis = r.Int("axis", opset >= 13 ? -1 : 1);
        var data = Data(r, 0);
        OpenLayer(r, data);
        if (data.ExampleShape is { Length: > 1 } example)
        {
            // Before opset 13 Softmax coerces its input to 2-D at the axis: at axis 1, [batch, d₁, …] is [batch, d₁⋯dₖ].
            if (opset >= 13 || (axis < 0 ? axis + example.Length + 1 : axis) != 1)
            {
                throw r.Unsupported(
                    $"takes the softmax over axis {axis} of [batch, {Dims(example)}]; the library's softmax is over all of each example's values, " +
                    "which ONNX writes as Softmax at axis 1 before opset 13 (or on the flattened [batch, n])");
            }
        }
        else if (axis is not (1 or -1))
        {
            throw r.Unsupported($"takes the softmax over axis {axis} of [batch, units]; only each example's units (axis 1 or −1) are read");
        }

        return Completed(data, Core.Activation.Softmax);
    }

    /// <summary>LeakyRelu(z) = z if z ≥ 0 else α·z, with α a FLOAT attribute (default 0.01).</summary>
    private Value LeakyRelu(NodeReader r)
    {
        r.Arity(1, 1, 1, 1);
        var alpha = r.Float("alpha", 0.01f);
        var data = Data(r, 0);
        OpenLayer(r, data);
        return Completed(data, Leaky(r, NodeReader.Shortest(alpha), alpha.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static Core.Activation Leaky(NodeReader r, double slope, string written) =>
        slope > 0 && slope < 1
            ? Core.Activation.NewLeakyReLU(slope)
            : throw r.Unsupported($"has the leaky ReLU slope α = {written}; the library's leaky ReLU needs 0 < α < 1");

    /// <summary>Mul(z, α) or Mul(α, z), the first half of max(z, α·z).</summary>
    private Value Mul(NodeReader r)
    {
        r.Arity(2, 2, 1, 1);
        var (data, constant) = (Required(r, 0), Required(r, 1)) switch
        {
            (DataValue<T> d, ConstantValue c) => (d, c),
            (ConstantValue c, DataValue<T> d) => (d, c),
            _ => throw r.Unsupported("multiplies two values that are not a weighted input and a constant; Mul is read only as α·z inside max(z, α·z), the leaky ReLU"),
        };
        if (data.Stage is not (Open<T> or Features<T>))
        {
            throw r.Unsupported("multiplies something other than a layer's weighted input z or output by a constant; Mul is read only as α·z inside max(z, α·z), the leaky ReLU");
        }

        var z = data.Stage;

        var alpha = Scalar(r, constant, "factor α");
        var slope = typeof(T) == typeof(float) ? NodeReader.Shortest(float.CreateTruncating(alpha)) : double.CreateTruncating(alpha);
        return data with { Stage = new Scaled<T>(z, slope) };
    }

    /// <summary>Max(z, α·z) (either order) with 0 &lt; α &lt; 1: the leaky ReLU, exactly (z > 0 gives z, else α·z).</summary>
    private Value Max(NodeReader r)
    {
        if (r.Node.Input.Count != 2)
        {
            throw r.Unsupported($"takes the maximum of {r.Node.Input.Count} values; Max is read only as max(z, α·z), the leaky ReLU");
        }

        r.Arity(2, 2, 1, 1);
        var (left, right) = (Required(r, 0), Required(r, 1));
        if (left is DataValue<T> { Stage: Scaled<T> } && right is DataValue<T> { Stage: Open<T> or Features<T> })
        {
            (left, right) = (right, left);
        }

        if (left is DataValue<T> { Stage: Open<T> or Features<T> } data && right is DataValue<T> { Stage: Scaled<T> scaled } other &&
            ReferenceEquals(scaled.Z, data.Stage) && ReferenceEquals(data.Layers, other.Layers) && ReferenceEquals(data.Scaler, other.Scaler))
        {
            return Completed(data, Leaky(r, scaled.Slope, scaled.Slope.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        }

        throw r.Unsupported("takes a maximum other than max(z, α·z) of one value z; Max is read only as the leaky ReLU");
    }

    /// <summary>Greater(z, 0), the first half of the step activation Cast(z > 0).</summary>
    private Value Greater(NodeReader r)
    {
        r.Arity(2, 2, 1, 1);
        if (Required(r, 0) is DataValue<T> { Stage: Open<T> or Features<T> } data && Required(r, 1) is ConstantValue zero && T.IsZero(Scalar(r, zero, "threshold")))
        {
            return data with { Stage = new Compared<T>(data.Stage) };
        }

        throw r.Unsupported("compares something other than a layer's weighted input z or output with 0; Greater is read only as z > 0, followed by a Cast (the step activation)");
    }

    /// <summary>
    /// Cast to T: completes the step activation after Greater(z, 0), or an input scaler computed in
    /// float64 in a FLOAT graph; to the type the data already has, changes nothing. Cast to DOUBLE in
    /// a FLOAT graph starts such a scaler.
    /// </summary>
    private Value Cast(NodeReader r)
    {
        r.Arity(1, 1, 1, 1);
        if (!r.Has("to"))
        {
            throw r.Invalid("has no attribute 'to', which Cast requires.");
        }

        var to = r.Int("to", 0);
        var data = Data(r, 0);
        if (to == (int)global::Onnx.TensorProto.Types.DataType.Double && typeof(T) == typeof(float))
        {
            return Widen(r, data);
        }

        if (to != OnnxFormat.ElementType<T>())
        {
            throw r.Unsupported($"casts to {OnnxFormat.TypeName((int)Math.Clamp(to, int.MinValue, int.MaxValue))}; the graph computes in {OnnxFormat.TypeName(OnnxFormat.ElementType<T>())} and changes type only as Cast(z > 0), the step activation, and around an input scaler computed in float64");
        }

        return data.Stage switch
        {
            Compared<T> compared => Completed(data with { Stage = compared.Z }, Core.Activation.Step),
            Rescaled<T> rescaled => data with { Stage = Features<T>.Instance, Scaler = rescaled.Scaler },
            Scaled<T> => throw r.Unsupported("casts α·z outside max(z, α·z), the leaky ReLU"),
            Widened<T> or Centred<T> => throw Misplaced(r, data.Stage),
            _ => data,
        };
    }
}
