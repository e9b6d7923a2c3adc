using System;
using System.Linq;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Onnx.Import;

// The linear part of a layer: z = W a from Gemm or MatMul, and its bias b from Gemm's C or an Add.
internal sealed partial class GraphReader<T>
{
    /// <summary>Gemm(A, B, C) = A·B' + C, with B' = B or Bᵀ: a layer's weighted input when A is the data.</summary>
    private Value Gemm(NodeReader r)
    {
        r.Arity(opset >= 11 ? 2 : 3, 3, 1, 1);
        var alpha = r.Float("alpha", 1f);
        var beta = r.Float("beta", 1f);
        var transA = r.Int("transA", 0);
        var transB = r.Int("transB", 0);
        if (transA is not (0 or 1) || transB is not (0 or 1))
        {
            throw r.Invalid($"has transA = {transA} and transB = {transB}; each must be 0 or 1.");
        }

        if (Required(r, 0) is ConstantValue && Required(r, 1) is DataValue<T>)
        {
            throw r.Unsupported("multiplies constant weights on the left of the data; a layer computes data · weights");
        }

        var a = Closed(r, Data(r, 0));
        var b = Constant(r, 1, "weights B");
        var c = Optional(r, 2) is null ? null : Constant(r, 2, "bias C");
        if (alpha != 1f)
        {
            throw r.Unsupported($"scales the product by alpha = {alpha}; only alpha = 1 is read, since folding it into the weights would round them");
        }

        if (c is not null && beta != 1f)
        {
            throw r.Unsupported($"scales the bias by beta = {beta}; only beta = 1 is read, since folding it into the bias would round it");
        }

        if (transA != 0)
        {
            throw r.Unsupported("transposes the data (transA = 1); a layer takes one example per row");
        }

        var width = Width(r, a);
        var w = Weights(r, b, transB == 1, width, rankTwoRequired: true);
        var biases = c is null ? null : Bias(r, c, w.Rows, gemm: true);
        return a.Starting() with { Stage = new Weighted<T>(w, biases, r.Description), ExampleShape = new long[] { w.Rows } };
    }

    /// <summary>MatMul(A, B) = A·B with B [inputs, units]: a layer's weighted input without its bias.</summary>
    private Value MatMul(NodeReader r)
    {
        r.Arity(2, 2, 1, 1);
        if (Required(r, 0) is ConstantValue && Required(r, 1) is DataValue<T>)
        {
            throw r.Unsupported("multiplies constant weights on the left of the data; a layer computes data · weights");
        }

        var a = Closed(r, Data(r, 0));
        var b = Constant(r, 1, "weights");
        var width = Width(r, a);
        var w = Weights(r, b, transposed: false, width, rankTwoRequired: false);
        return a.Starting() with { Stage = new Weighted<T>(w, null, r.Description), ExampleShape = new long[] { w.Rows } };
    }

    /// <summary>Add(z, b) or Add(b, z): the bias of a layer whose weights a MatMul (or a Gemm without C) applied.</summary>
    private Value Add(NodeReader r)
    {
        r.Arity(2, 2, 1, 1);
        var (left, right) = (Required(r, 0), Required(r, 1));
        var (data, bias) = (left, right) switch
        {
            (DataValue<T> d, ConstantValue c) => (d, c),
            (ConstantValue c, DataValue<T> d) => (d, c),
            (DataValue<T>, DataValue<T>) => throw r.Unsupported("adds two values computed from x (a branch or a skip connection)"),
            (UnmodelledValue u, _) => throw r.Unsupported($"reads {u.What}"),
            (_, UnmodelledValue u) => throw r.Unsupported($"reads {u.What}"),
            _ => throw r.Unsupported("adds two constants; constant arithmetic is not folded"),
        };
        return data.Stage switch
        {
            Weighted<T> { Biases: null } z => data with { Stage = z with { Biases = Bias(r, bias, z.Weights.Rows, gemm: false) } },
            Weighted<T> z => throw r.Unsupported($"adds a second bias to the weighted input of {z.Node}; one bias per layer is read, since adding the two first would round them"),
            Convolved<T> z => throw r.Unsupported($"adds a constant to the output of {z.Node}; a convolution's bias is read from the Conv's input B"),
            Features<T> when data.Layers.IsEmpty => throw r.Unsupported("adds a constant to the input x; a bias is read only after a Gemm or MatMul"),
            Features<T> => throw r.Unsupported($"adds a constant to the output of layer {data.Layers.Count} after its activation; a bias is read only after a Gemm or MatMul"),
            _ => throw Misplaced(r, data.Stage),
        };
    }

    /// <summary>One example's width of [batch, width] data, or −1 if unknown; refuses other ranks.</summary>
    private static long Width(NodeReader r, DataValue<T> a) =>
        a.Width ?? throw r.Unsupported($"multiplies data of rank {a.ExampleShape!.Length + 1} ([batch, {string.Join(", ", a.ExampleShape.Select(d => d < 0 ? "?" : d.ToString()))}]); a layer takes [batch, n], so flatten it first");

    /// <summary>The weights W (units × inputs) from B: [inputs, units] as stored, or [units, inputs] when transposed (transB = 1).</summary>
    private Core.Matrix<T> Weights(NodeReader r, ConstantValue b, bool transposed, long width, bool rankTwoRequired)
    {
        var dims = Tensors.Shape(b.Tensor, $"{r.Description}'s {b.Origin}");
        if (dims.Length != 2)
        {
            var problem = $"takes the weights {b.Origin} of rank {dims.Length} ([{string.Join(", ", dims)}])";
            throw rankTwoRequired ? r.Invalid(problem + "; Gemm's B has rank 2.") : r.Unsupported(problem + "; a layer's weights have rank 2");
        }

        var (inputs, units) = transposed ? (dims[1], dims[0]) : (dims[0], dims[1]);
        if (width >= 0 && inputs != width)
        {
            throw r.Invalid($"multiplies [batch, {width}] data by the weights {b.Origin} of shape [{dims[0]}, {dims[1]}]{(transposed ? " transposed" : string.Empty)}, whose inner dimension is {inputs}.");
        }

        if (inputs == 0 || units == 0)
        {
            throw r.Unsupported($"takes the empty weights {b.Origin} of shape [{dims[0]}, {dims[1]}]; a layer has at least one input and one unit");
        }

        var what = $"{r.Description}'s weights {b.Origin}";
        var (n, m) = ((int)units, (int)inputs);
        if (transposed)
        {
            return RowMajorMatrix(b, n, m, what);
        }

        // The library's W is units × inputs in column-major order: W[j, k] at j + k·units. B as
        // stored [inputs, units] row-major has B[k, j] at k·units + j, the same place.
        if (!weights.TryGetValue(b.Tensor, out var matrix))
        {
            matrix = Core.Matrix.ofColumnMajor(n, m, Reals(b, what));
            weights[b.Tensor] = matrix;
        }

        return matrix;
    }

    /// <summary>
    /// The rows × columns matrix of a constant stored row by row: W [units, inputs] (Gemm with
    /// transB = 1), or a convolution's W [filters, C, kₕ, k_w] as filters × C·kₕ·k_w. The library's
    /// matrices are column-major (W[j, k] at j + k·rows), so the values are rearranged, once per tensor.
    /// </summary>
    private Core.Matrix<T> RowMajorMatrix(ConstantValue c, int rows, int columns, string what)
    {
        if (rowMajorWeights.TryGetValue(c.Tensor, out var cached))
        {
            return cached;
        }

        var stored = Reals(c, what);
        var columnMajor = new T[stored.Length];
        for (var j = 0; j < rows; j++)
        {
            for (var k = 0; k < columns; k++)
            {
                columnMajor[j + (k * rows)] = stored[(j * columns) + k];
            }
        }

        var matrix = Core.Matrix.ofColumnMajor(rows, columns, columnMajor);
        rowMajorWeights[c.Tensor] = matrix;
        return matrix;
    }

    /// <summary>
    /// A bias for <paramref name="units"/> units from a constant that broadcasts along the batch:
    /// [units], [1, units], or one value ([], [1], [1, 1]) repeated for every unit.
    /// </summary>
    private T[] Bias(NodeReader r, ConstantValue c, int units, bool gemm)
    {
        var what = $"{r.Description}'s bias {c.Origin}";
        var dims = Tensors.Shape(c.Tensor, what);
        var count = Tensors.Count(c.Tensor, what);
        var shape = $"[{string.Join(", ", dims)}]";
        if (dims.Length > 2 || (dims.Length >= 1 && dims[^1] != units && dims[^1] != 1) || (dims.Length == 2 && dims[0] != 1))
        {
            var problem = $"adds the bias {c.Origin} of shape {shape} to [batch, {units}]";
            throw dims.Length <= 2 && dims.All(d => d == 1 || d == units) && !gemm
                ? r.Unsupported(problem + ", which would differ between examples")
                : r.Invalid(problem + ", which does not broadcast to it.");
        }

        var values = Reals(c, what);
        if (count == units)
        {
            return values;
        }

        var repeated = new T[units];
        Array.Fill(repeated, values[0]);
        return repeated;
    }

    private T[] Reals(ConstantValue c, string what)
    {
        if (!reals.TryGetValue(c.Tensor, out var values))
        {
            values = Tensors.Reals<T>(c.Tensor, what);
            reals[c.Tensor] = values;
        }

        return values;
    }

    /// <summary>The value of a constant of one element (a scalar, or [1], [1, 1]) of type T.</summary>
    private T Scalar(NodeReader r, ConstantValue c, string role)
    {
        var what = $"{r.Description}'s {role} {c.Origin}";
        var dims = Tensors.Shape(c.Tensor, what);
        if (dims.Length > 2 || dims.Any(d => d != 1))
        {
            throw r.Unsupported($"takes {c.Origin} of shape [{string.Join(", ", dims)}] as its {role}, which must be a single value");
        }

        return Reals(c, what)[0];
    }
}
