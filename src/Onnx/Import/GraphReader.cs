using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Numerics;
using Core = FunctionalBackprop.Core;
using Proto = global::Onnx;
using AttributeType = global::Onnx.AttributeProto.Types.AttributeType;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace FunctionalBackprop.Onnx.Import;

/// <summary>
/// Reads a graph as a network by walking its nodes in order and tracking, for every value, what it
/// is: a constant, or x after so many completed layers plus the current layer's progress (z = W a,
/// then + b, then σ). Every node must be one of the forms a dense layer takes; anything else is
/// refused, naming the node, so a graph is either read exactly or not at all.
/// </summary>
/// <typeparam name="T">The graph's element type: float for FLOAT, double for DOUBLE.</typeparam>
internal sealed class GraphReader<T>
    where T : IFloatingPointIeee754<T>
{
    private readonly Proto.GraphProto graph;
    private readonly int opset;
    private readonly Dictionary<string, Value> values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> producers = new(StringComparer.Ordinal);

    // Decoded once per tensor, however many nodes read it, so allocation stays bounded by the file.
    private readonly Dictionary<Proto.TensorProto, T[]> reals = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Proto.TensorProto, Core.Matrix<T>> weights = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Proto.TensorProto, Core.Matrix<T>> transposedWeights = new(ReferenceEqualityComparer.Instance);

    private GraphReader(Proto.GraphProto graph, int opset)
    {
        this.graph = graph;
        this.opset = opset;
    }

    /// <summary>The network the graph computes, from its input x (of element type T) to its one output.</summary>
    public static Core.Network<T> Read(Proto.GraphProto graph, GraphInput input, int opset) => new GraphReader<T>(graph, opset).Run(input);

    private Core.Network<T> Run(GraphInput input)
    {
        if (graph.SparseInitializer.Count > 0)
        {
            throw new NotSupportedException($"The graph has {graph.SparseInitializer.Count} sparse initializers; only dense tensors are read. {OnnxFormat.Accepted}.");
        }

        foreach (var initializer in graph.Initializer)
        {
            if (initializer.Name.Length == 0)
            {
                throw new InvalidDataException("The model is not valid ONNX: an initializer has no name.");
            }

            if (!values.TryAdd(initializer.Name, new ConstantValue(initializer, $"initializer {OnnxFormat.Quote(initializer.Name)}")))
            {
                throw new InvalidDataException($"The model is not valid ONNX: two initializers are named {OnnxFormat.Quote(initializer.Name)}.");
            }
        }

        values[input.Name] = new DataValue<T>(ImmutableList<Core.Dense<T>>.Empty, Features<T>.Instance, input.ExampleShape);
        for (var i = graph.Node.Count - 1; i >= 0; i--)
        {
            foreach (var output in graph.Node[i].Output)
            {
                producers[output] = i;
            }
        }

        for (var i = 0; i < graph.Node.Count; i++)
        {
            Apply(graph.Node[i], i);
        }

        return Finish();
    }

    // ----- the walk -----

    private void Apply(Proto.NodeProto node, int index)
    {
        if (node.Domain is not ("" or "ai.onnx"))
        {
            var where = node.Name.Length > 0 ? $"node {index + 1} {OnnxFormat.Quote(node.Name)}" : $"node {index + 1}";
            throw new NotSupportedException($"{where} ({OnnxFormat.Quote(node.Domain)}.{node.OpType}) is an operator of another domain than ai.onnx. {OnnxFormat.Accepted}.");
        }

        if (!KnownAttributes.TryGetValue(node.OpType, out var known))
        {
            var r = new NodeReader(node, index, AllAttributes(node));
            throw r.Unsupported("is not an operator a dense network is read from");
        }

        var reader = new NodeReader(node, index, known(opset));
        var results = node.OpType switch
        {
            "Gemm" => new[] { Gemm(reader) },
            "MatMul" => new[] { MatMul(reader) },
            "Add" => new[] { Add(reader) },
            "Relu" => new[] { Activate(reader, Core.Activation.ReLU) },
            "Sigmoid" => new[] { Activate(reader, Core.Activation.Sigmoid) },
            "Tanh" => new[] { Activate(reader, Core.Activation.Tanh) },
            "Softmax" => new[] { Softmax(reader) },
            "LeakyRelu" => new[] { LeakyRelu(reader) },
            "Mul" => new[] { Mul(reader) },
            "Max" => new[] { Max(reader) },
            "Greater" => new[] { Greater(reader) },
            "Cast" => new[] { Cast(reader) },
            "Flatten" => new[] { Flatten(reader) },
            "Reshape" => new[] { Reshape(reader) },
            "Identity" => new[] { Identity(reader) },
            "Dropout" => Dropout(reader),
            _ => new[] { Constant(reader) },
        };
        for (var k = 0; k < node.Output.Count; k++)
        {
            var name = node.Output[k];
            if (name.Length == 0)
            {
                continue;
            }

            if (!values.TryAdd(name, results[k]))
            {
                throw reader.Invalid($"defines {OnnxFormat.Quote(name)}, which is already defined (by an earlier node, an initializer or the graph input): every value has one definition.");
            }
        }
    }

    /// <summary>The attribute names each operator defines, by opset; an operator missing here is not read.</summary>
    private static readonly Dictionary<string, Func<int, string[]>> KnownAttributes = new(StringComparer.Ordinal)
    {
        ["Gemm"] = _ => new[] { "alpha", "beta", "transA", "transB" },
        ["MatMul"] = _ => Array.Empty<string>(),
        ["Add"] = _ => Array.Empty<string>(),
        ["Relu"] = _ => Array.Empty<string>(),
        ["Sigmoid"] = _ => Array.Empty<string>(),
        ["Tanh"] = _ => Array.Empty<string>(),
        ["Softmax"] = _ => new[] { "axis" },
        ["LeakyRelu"] = _ => new[] { "alpha" },
        ["Mul"] = _ => Array.Empty<string>(),
        ["Max"] = _ => Array.Empty<string>(),
        ["Greater"] = _ => Array.Empty<string>(),
        ["Cast"] = opset => opset >= 19 ? new[] { "to", "saturate" } : new[] { "to" },
        ["Flatten"] = _ => new[] { "axis" },
        ["Reshape"] = opset => opset >= 14 ? new[] { "allowzero" } : Array.Empty<string>(),
        ["Identity"] = _ => Array.Empty<string>(),
        ["Dropout"] = opset => opset >= 12 ? new[] { "seed" } : new[] { "ratio" },
        ["Constant"] = opset => opset >= 12
            ? new[] { "value", "sparse_value", "value_float", "value_floats", "value_int", "value_ints", "value_string", "value_strings" }
            : opset >= 11 ? new[] { "value", "sparse_value" } : new[] { "value" },
    };

    private static string[] AllAttributes(Proto.NodeProto node) => node.Attribute.Select(a => a.Name).Distinct(StringComparer.Ordinal).ToArray();

    // ----- reading a node's inputs -----

    /// <summary>Input k, or null when it is absent (an optional input left empty or not given).</summary>
    private Value? Optional(NodeReader r, int k)
    {
        if (k >= r.Node.Input.Count || r.Node.Input[k].Length == 0)
        {
            return null;
        }

        var name = r.Node.Input[k];
        if (values.TryGetValue(name, out var value))
        {
            return value;
        }

        if (producers.TryGetValue(name, out var producer))
        {
            throw r.Invalid($"reads {OnnxFormat.Quote(name)} before node {producer + 1} produces it: the nodes are not in topological order, or they form a cycle.");
        }

        throw r.Invalid($"reads {OnnxFormat.Quote(name)}, which no graph input, initializer or node defines (a missing initializer?).");
    }

    private Value Required(NodeReader r, int k) =>
        Optional(r, k) ?? throw r.Invalid($"leaves its input {k + 1} empty, which {r.Node.OpType} requires.");

    /// <summary>Input k as the data flowing from x.</summary>
    private DataValue<T> Data(NodeReader r, int k) => Required(r, k) switch
    {
        DataValue<T> data => data,
        ConstantValue c => throw r.Unsupported($"takes the constant {c.Origin} as its input {k + 1}, where the data computed from x must flow"),
        UnmodelledValue u => throw r.Unsupported($"reads {u.What}"),
        var other => throw new InvalidOperationException($"Unexpected value {other}."),
    };

    /// <summary>Input k as a constant tensor.</summary>
    private ConstantValue Constant(NodeReader r, int k, string role) => Required(r, k) switch
    {
        ConstantValue c => c,
        DataValue<T> => throw r.Unsupported($"takes data computed from x as its {role}, which must be a constant (an initializer or a Constant)"),
        UnmodelledValue u => throw r.Unsupported($"reads {u.What}"),
        var other => throw new InvalidOperationException($"Unexpected value {other}."),
    };

    /// <summary>The data with its open layer (if any) completed with the identity activation.</summary>
    private static DataValue<T> Closed(NodeReader r, DataValue<T> data) => data.Stage switch
    {
        Features<T> => data,
        Weighted<T> => Completed(data, Core.Activation.Identity),
        _ => throw Misplaced(r, data.Stage),
    };

    /// <summary>The refusal for a node that reads half of a two-node activation (z > 0 without its Cast, α·z without its Max).</summary>
    private static NotSupportedException Misplaced(NodeReader r, Stage<T> stage) => stage is Compared<T>
        ? r.Unsupported("reads the comparison z > 0 without the Cast to a real type that makes it the step activation")
        : r.Unsupported("reads α·z outside max(z, α·z), the leaky ReLU");

    /// <summary>The open layer completed with σ: a = σ(W a + b).</summary>
    private static DataValue<T> Completed(DataValue<T> data, Core.Activation activation)
    {
        var z = (Weighted<T>)data.Stage;
        var units = z.Weights.Rows;
        var biases = Core.Matrix.ofColumnMajor(units, 1, z.Biases ?? new T[units]);
        var layer = Core.Dense.create(z.Weights, biases, activation);
        return new DataValue<T>(data.Layers.Add(layer), Features<T>.Instance, new long[] { units });
    }

    /// <summary>The weighted input z of the data's open layer, for an activation.</summary>
    private static Weighted<T> OpenLayer(NodeReader r, DataValue<T> data) => data.Stage switch
    {
        Weighted<T> z => z,
        Features<T> when data.Layers.IsEmpty => throw r.Unsupported($"applies {r.Node.OpType} to the input x itself; an activation must follow a Gemm or MatMul"),
        Features<T> => throw r.Unsupported($"applies {r.Node.OpType} to the output of layer {data.Layers.Count}, which already has its activation ({Core.ActivationModule.name(data.Layers[^1].Activation)}); a layer has one"),
        _ => throw Misplaced(r, data.Stage),
    };

    // ----- the linear part: z = W a (+ b) -----

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
        return new DataValue<T>(a.Layers, new Weighted<T>(w, biases, r.Description), new long[] { w.Rows });
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
        return new DataValue<T>(a.Layers, new Weighted<T>(w, null, r.Description), new long[] { w.Rows });
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

        var cache = transposed ? transposedWeights : weights;
        if (cache.TryGetValue(b.Tensor, out var cached))
        {
            return cached;
        }

        var stored = Reals(b, $"{r.Description}'s weights {b.Origin}");
        var (n, m) = ((int)units, (int)inputs);

        // The library's W is units × inputs in column-major order: W[j, k] at j + k·units. B as
        // stored [inputs, units] row-major has B[k, j] at k·units + j, the same place; B stored
        // [units, inputs] (transB = 1) has W[j, k] at j·inputs + k and must be rearranged.
        T[] columnMajor;
        if (transposed)
        {
            columnMajor = new T[stored.Length];
            for (var j = 0; j < n; j++)
            {
                for (var k = 0; k < m; k++)
                {
                    columnMajor[j + (k * n)] = stored[(j * m) + k];
                }
            }
        }
        else
        {
            columnMajor = stored;
        }

        var matrix = Core.Matrix.ofColumnMajor(n, m, columnMajor);
        cache[b.Tensor] = matrix;
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

    // ----- activations: a = σ(z) -----

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
        if (axis is not (1 or -1))
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
        return Completed(data, Leaky(r, NodeReader.SlopeOf(alpha), alpha.ToString(System.Globalization.CultureInfo.InvariantCulture)));
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
        if (data.Stage is not Weighted<T> z)
        {
            throw r.Unsupported("multiplies something other than a layer's weighted input z by a constant; Mul is read only as α·z inside max(z, α·z), the leaky ReLU");
        }

        var alpha = Scalar(r, constant, "factor α");
        var slope = typeof(T) == typeof(float) ? NodeReader.SlopeOf(float.CreateTruncating(alpha)) : double.CreateTruncating(alpha);
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
        if (left is DataValue<T> { Stage: Scaled<T> } && right is DataValue<T> { Stage: Weighted<T> })
        {
            (left, right) = (right, left);
        }

        if (left is DataValue<T> { Stage: Weighted<T> z } data && right is DataValue<T> { Stage: Scaled<T> scaled } other &&
            ReferenceEquals(scaled.Z, z) && ReferenceEquals(data.Layers, other.Layers))
        {
            return Completed(data, Leaky(r, scaled.Slope, scaled.Slope.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        }

        throw r.Unsupported("takes a maximum other than max(z, α·z) of one layer's weighted input z; Max is read only as the leaky ReLU");
    }

    /// <summary>Greater(z, 0), the first half of the step activation Cast(z > 0).</summary>
    private Value Greater(NodeReader r)
    {
        r.Arity(2, 2, 1, 1);
        if (Required(r, 0) is DataValue<T> { Stage: Weighted<T> z } data && Required(r, 1) is ConstantValue zero && T.IsZero(Scalar(r, zero, "threshold")))
        {
            return data with { Stage = new Compared<T>(z) };
        }

        throw r.Unsupported("compares something other than a layer's weighted input z with 0; Greater is read only as z > 0, followed by a Cast (the step activation)");
    }

    /// <summary>Cast to T: completes the step activation after Greater(z, 0); to the type the data already has, changes nothing.</summary>
    private Value Cast(NodeReader r)
    {
        r.Arity(1, 1, 1, 1);
        if (!r.Has("to"))
        {
            throw r.Invalid("has no attribute 'to', which Cast requires.");
        }

        var to = r.Int("to", 0);
        var data = Data(r, 0);
        if (to != OnnxFormat.ElementType<T>())
        {
            throw r.Unsupported($"casts to {OnnxFormat.TypeName((int)Math.Clamp(to, int.MinValue, int.MaxValue))}; the graph computes in {OnnxFormat.TypeName(OnnxFormat.ElementType<T>())} and changes type only as Cast(z > 0), the step activation");
        }

        return data.Stage switch
        {
            Compared<T> compared => Completed(data with { Stage = compared.Z }, Core.Activation.Step),
            Scaled<T> => throw r.Unsupported("casts α·z outside max(z, α·z), the leaky ReLU"),
            _ => data,
        };
    }

    // ----- shapes -----

    /// <summary>Flatten at axis 1: [batch, d₁, …, dₖ] becomes [batch, d₁⋯dₖ], each example's values in row-major order.</summary>
    private Value Flatten(NodeReader r)
    {
        r.Arity(1, 1, 1, 1);
        var axis = r.Int("axis", 1);
        var data = Data(r, 0);
        if (data.Stage is Compared<T> or Scaled<T>)
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

        return data with { ExampleShape = new[] { Elements(r, shape) } };
    }

    /// <summary>Reshape to [−1, n] or [0, n]: one example per row, its values in row-major order.</summary>
    private Value Reshape(NodeReader r)
    {
        r.Arity(2, 2, 1, 1);
        var allowZero = r.Int("allowzero", 0) != 0;
        var data = Data(r, 0);
        if (data.Stage is Compared<T> or Scaled<T>)
        {
            throw Misplaced(r, data.Stage);
        }

        var shapeInput = Constant(r, 1, "target shape");
        var what = $"{r.Description}'s target shape {shapeInput.Origin}";
        if (Tensors.Shape(shapeInput.Tensor, what).Length != 1)
        {
            throw r.Invalid($"takes the target shape {shapeInput.Origin}, which is not a list (rank 1).");
        }

        var target = Tensors.Int64s(shapeInput.Tensor, what);
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

        var batchKept = (rows == 0 && !allowZero) || (rows == -1 && width > 0);
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

        return data with { ExampleShape = new[] { width } };
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

    // ----- the end -----

    private Core.Network<T> Finish()
    {
        if (graph.Output.Count == 0)
        {
            throw new InvalidDataException("The model is not valid ONNX: the graph has no output.");
        }

        if (graph.Output.Count > 1)
        {
            throw new NotSupportedException($"The graph has {graph.Output.Count} outputs ({string.Join(", ", graph.Output.Select(o => OnnxFormat.Quote(o.Name)))}); a dense network gives one, y [batch, m]. {OnnxFormat.Accepted}.");
        }

        var output = graph.Output[0];
        var what = $"The graph output {OnnxFormat.Quote(output.Name)}";
        if (!values.TryGetValue(output.Name, out var value))
        {
            throw new InvalidDataException($"The model is not valid ONNX: {what} is defined by no node, initializer or input.");
        }

        var data = value switch
        {
            DataValue<T> d => d.Stage switch
            {
                Compared<T> => throw new NotSupportedException($"{what} is the comparison z > 0 itself (a boolean tensor), not a network's output. {OnnxFormat.Accepted}."),
                Scaled<T> => throw new NotSupportedException($"{what} is α·z outside max(z, α·z). {OnnxFormat.Accepted}."),
                Weighted<T> => Completed(d, Core.Activation.Identity),
                _ => d,
            },
            ConstantValue c => throw new NotSupportedException($"{what} is the constant {c.Origin}: it does not depend on the input. {OnnxFormat.Accepted}."),
            UnmodelledValue u => throw new NotSupportedException($"{what} is {u.What}, which is not modelled. {OnnxFormat.Accepted}."),
            _ => throw new InvalidOperationException($"Unexpected value {value}."),
        };
        if (data.Layers.IsEmpty)
        {
            throw new NotSupportedException($"{what} is the input x reshaped, with no Gemm or MatMul: there is no dense layer to read. {OnnxFormat.Accepted}.");
        }

        var units = data.Layers[^1].OutputWidth;
        if (output.Type?.TensorType is { } tensor)
        {
            if (tensor.ElemType != 0 && tensor.ElemType != OnnxFormat.ElementType<T>())
            {
                throw new InvalidDataException($"The model is not valid ONNX: {what} is declared {OnnxFormat.TypeName(tensor.ElemType)}, but the graph computes it in {OnnxFormat.TypeName(OnnxFormat.ElementType<T>())}.");
            }

            if (tensor.Shape is { } shape &&
                (shape.Dim.Count != 2 || (shape.Dim[1].ValueCase == Proto.TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && shape.Dim[1].DimValue != units)))
            {
                var dims = string.Join(", ", shape.Dim.Select(d => d.ValueCase == Proto.TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue.ToString() : "?"));
                throw new InvalidDataException($"The model is not valid ONNX: {what} is declared [{dims}], but the graph computes [batch, {units}].");
            }
        }
        else if (output.Type is { } other && other.ValueCase != Proto.TypeProto.ValueOneofCase.None)
        {
            throw new InvalidDataException($"The model is not valid ONNX: {what} is declared a {other.ValueCase}, but the graph computes a tensor.");
        }

        return Core.Network.ofLayers(data.Layers);
    }
}
