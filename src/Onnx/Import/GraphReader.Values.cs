using System;
using System.Linq;
using Core = FunctionalBackprop.Core;
using Proto = global::Onnx;
using AttributeType = global::Onnx.AttributeProto.Types.AttributeType;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace FunctionalBackprop.Onnx.Import;

// Nodes that reshape the data, pass a value on, or define a constant.
internal sealed partial class GraphReader<T>
{
    /// <summary>Flatten at axis 1: [batch, d₁, …, dₖ] becomes [batch, d₁⋯dₖ], each example's values in row-major order.</summary>
    private Value Flatten(NodeReader r)
    {
        r.Arity(1, 1, 1, 1);
        var axis = r.Int("axis", 1);
        var data = Data(r, 0);
        if (!Complete(data.Stage))
        {
            throw Misplaced(r, data.Stage);
        }

        var shape = data.ExampleShape;
        if (shape is null)
        {
            return axis == 1
                ? data with { ExampleShape = new long[] { -1 } }
                : throw r.Unsupported($"flattens at axis {axis} a tensor whose rank the file does not give; only axis 1 is read then");
        }

        var rank = shape.Length + 1;
        var at = axis < 0 ? axis + rank : axis;
        if (at < 0 || at > rank)
        {
            throw r.Invalid($"flattens at axis {axis}, outside the rank {rank} of its input.");
        }

        if (at != 1)
        {
            throw r.Unsupported($"flattens [batch, …] at axis {axis}, which would put parts of several examples in one row; only axis 1 keeps one example per row");
        }

        return Flattened(r, data, new[] { Elements(r, shape) });
    }

    /// <summary>
    /// The data as one row per example: after a layer that gives images, a flatten layer (closing
    /// an open convolution with the identity σ); on x itself, or on vectors, the same values under
    /// the new shape (so an input [batch, 1, 28, 28] flattened first reads as a network on 784 values).
    /// </summary>
    private static DataValue<T> Flattened(NodeReader r, DataValue<T> data, long[] shape) =>
        data.Image is not null && (!data.Layers.IsEmpty || data.Stage is Open<T>)
            ? Closed(r, data).Then(Core.Layer<T>.Flatten, shape)
            : data with { ExampleShape = shape };

    /// <summary>Reshape to [−1, n], [0, n] or [batch, n] (the batch from the data's shape): one example per row, its values in row-major order.</summary>
    private Value Reshape(NodeReader r)
    {
        r.Arity(2, 2, 1, 1);
        var allowZero = r.Int("allowzero", 0) != 0;
        var data = Data(r, 0);
        if (!Complete(data.Stage))
        {
            throw Misplaced(r, data.Stage);
        }

        // [batch, dims…] computed from the data's own shape (x.view(x.size(0), −1)) keeps the batch as 0 does.
        var batch = Required(r, 1) as BatchTarget;
        var target = batch is null ? TargetShape(r) : batch.Dims.Prepend(0).ToArray();
        if (target.Any(d => d < -1) || target.Count(d => d == -1) > 1)
        {
            throw r.Invalid($"reshapes to [{string.Join(", ", target)}]: a target shape holds dims of 0 or more and at most one −1.");
        }

        if (target.Length != 2)
        {
            throw r.Unsupported($"reshapes to [{string.Join(", ", target)}], of rank {target.Length}; only [−1, n] or [0, n] (one example per row) is read");
        }

        var perExample = data.ExampleShape is null ? -1 : Elements(r, data.ExampleShape);
        var (rows, width) = (target[0], target[1]);
        if (width == 0 && !allowZero)
        {
            // 0 copies the input's dim 1.
            width = data.ExampleShape is { Length: 1 } ? data.ExampleShape[0] : -1;
            if (width < 0)
            {
                throw r.Unsupported("reshapes with 0 (copy) in dim 1 where the file does not give that dim; only [−1, n] or [0, n] is read");
            }
        }

        var batchKept = batch is not null || (rows == 0 && !allowZero) || (rows == -1 && width > 0);
        if (!batchKept || width == 0)
        {
            throw r.Unsupported($"reshapes to [{string.Join(", ", target)}]; only [−1, n] or [0, n] (one example per row) is read");
        }

        if (width == -1)
        {
            width = perExample;
        }
        else if (perExample >= 0 && width != perExample)
        {
            throw rows == 0
                ? r.Invalid($"reshapes examples of {perExample} values to rows of {width}, which does not keep the number of elements.")
                : r.Unsupported($"reshapes examples of {perExample} values to rows of {width}, which would regroup values across examples; only one example per row is read");
        }

        return Flattened(r, data, new[] { width });
    }

    /// <summary>Reshape's constant target shape, a list of INT64.</summary>
    private long[] TargetShape(NodeReader r)
    {
        var shapeInput = Constant(r, 1, "target shape");
        var what = $"{r.Description}'s target shape {shapeInput.Origin}";
        if (Tensors.Shape(shapeInput.Tensor, what).Length != 1)
        {
            throw r.Invalid($"takes the target shape {shapeInput.Origin}, which is not a list (rank 1).");
        }

        return Tensors.Int64s(shapeInput.Tensor, what);
    }

    /// <summary>The product of one example's dims (−1 if any is unknown), refusing more than 2³¹ values.</summary>
    private static long Elements(NodeReader r, long[] shape)
    {
        if (shape.Any(d => d < 0))
        {
            return -1;
        }

        long product = 1;
        foreach (var d in shape)
        {
            product = d > int.MaxValue || product * d > int.MaxValue ? long.MaxValue : product * d;
            if (product == long.MaxValue)
            {
                throw r.Unsupported($"reshapes examples of shape [{string.Join(", ", shape)}], more than 2³¹ values each");
            }
        }

        return product;
    }

    // ----- nodes that pass a value on or define one -----

    private Value Identity(NodeReader r)
    {
        r.Arity(1, 1, 1, 1);
        return Required(r, 0);
    }

    /// <summary>Dropout in inference: its output is its input; its mask is not modelled.</summary>
    private Value[] Dropout(NodeReader r)
    {
        r.Arity(1, opset >= 12 ? 3 : 1, 1, 2);
        var input = Required(r, 0);
        if (Optional(r, 2) is { } trainingMode)
        {
            var mode = trainingMode is ConstantValue c
                ? Tensors.Boolean(c.Tensor, $"{r.Description}'s training_mode {c.Origin}")
                : throw r.Unsupported("takes a training_mode that is not a constant; only inference (training_mode false) is read");
            if (mode)
            {
                throw r.Unsupported("drops values at random (training_mode true); only inference is read");
            }
        }

        _ = Optional(r, 1);
        return new Value[] { input, new UnmodelledValue($"the mask of {r.Description}") };
    }

    /// <summary>Constant: a tensor from its one attribute (value, value_float(s) or value_int(s)).</summary>
    private Value Constant(NodeReader r)
    {
        r.Arity(0, 0, 1, 1);
        var attribute = r.Single();
        var origin = $"the constant of {r.Description}";
        Proto.TensorProto tensor;
        switch (attribute.Name)
        {
            case "value":
                tensor = r.Typed(attribute, AttributeType.Tensor).T ?? throw r.Invalid("has a 'value' attribute without a tensor.");
                break;
            case "value_float":
                tensor = new Proto.TensorProto { DataType = (int)DataType.Float };
                tensor.FloatData.Add(r.Typed(attribute, AttributeType.Float).F);
                break;
            case "value_floats":
                tensor = new Proto.TensorProto { DataType = (int)DataType.Float };
                tensor.FloatData.Add(r.Typed(attribute, AttributeType.Floats).Floats);
                tensor.Dims.Add(tensor.FloatData.Count);
                break;
            case "value_int":
                tensor = new Proto.TensorProto { DataType = (int)DataType.Int64 };
                tensor.Int64Data.Add(r.Typed(attribute, AttributeType.Int).I);
                break;
            case "value_ints":
                tensor = new Proto.TensorProto { DataType = (int)DataType.Int64 };
                tensor.Int64Data.Add(r.Typed(attribute, AttributeType.Ints).Ints);
                tensor.Dims.Add(tensor.Int64Data.Count);
                break;
            default:
                throw r.Unsupported($"defines a constant by {OnnxFormat.Quote(attribute.Name)}; only dense numeric constants (value, value_float(s), value_int(s)) are read");
        }

        return new ConstantValue(tensor, origin);
    }
}
