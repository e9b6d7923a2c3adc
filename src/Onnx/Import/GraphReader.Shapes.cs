using System.Linq;

namespace FunctionalBackprop.Onnx.Import;

// The batch size as PyTorch computes it for x.view(x.size(0), −1): Shape(a), Gather(·, 0),
// Unsqueeze(·, [0]), Concat(·, [−1]), the target shape of a Reshape that keeps one example per row.
// Each step is read only as the next one of that computation; anything else reading it is refused.
internal sealed partial class GraphReader<T>
{
    /// <summary>Shape(a): the data's shape, whole (start 0, no end).</summary>
    private Value Shape(NodeReader r)
    {
        r.Arity(1, 1, 1, 1);
        if (r.Int("start", 0) != 0 || r.Has("end"))
        {
            throw r.Unsupported("takes part of a shape (start or end); a Shape is read only whole, as the source of the batch size x.size(0)");
        }

        var data = Data(r, 0);
        if (!Complete(data.Stage))
        {
            throw Misplaced(r, data.Stage);
        }

        return new DataShape($"the shape of {Describe(data)} ({r.Description})");
    }

    /// <summary>Gather(Shape(a), 0) along axis 0: the batch size.</summary>
    private Value Gather(NodeReader r)
    {
        r.Arity(2, 2, 1, 1);
        if (Required(r, 0) is not DataShape || r.Int("axis", 0) != 0 || Required(r, 1) is not ConstantValue c ||
            Tensors.Shape(c.Tensor, $"{r.Description}'s index {c.Origin}").Length != 0 || Tensors.Int64s(c.Tensor, $"{r.Description}'s index {c.Origin}") is not [0])
        {
            throw r.Unsupported("gathers something other than entry 0 (a scalar index) of a data's Shape; Gather is read only as the batch size x.size(0)");
        }

        return new BatchSize($"the batch size ({r.Description})");
    }

    /// <summary>Unsqueeze(batch size, [0]): the list [batch].</summary>
    private Value Unsqueeze(NodeReader r)
    {
        r.Arity(opset >= 13 ? 2 : 1, opset >= 13 ? 2 : 1, 1, 1);
        var axes = opset >= 13
            ? Required(r, 1) is ConstantValue c ? Tensors.Int64s(c.Tensor, $"{r.Description}'s axes {c.Origin}") : null
            : r.Ints("axes");
        if (Required(r, 0) is not BatchSize || axes is not [0])
        {
            throw r.Unsupported("unsqueezes something other than the batch size at axis 0; Unsqueeze is read only as the step from x.size(0) to a shape [batch, …]");
        }

        return new BatchList($"the list [batch] ({r.Description})");
    }

    /// <summary>Concat([batch], dims…) along axis 0: the target shape [batch, dims…].</summary>
    private Value Concat(NodeReader r)
    {
        r.Arity(2, int.MaxValue, 1, 1);
        var parts = Enumerable.Range(0, r.Node.Input.Count).Select(k => Required(r, k)).ToArray();
        if (r.Int("axis", 0) is not (0 or -1) || parts[0] is not BatchList || parts.Skip(1).Any(p => p is not ConstantValue))
        {
            throw r.Unsupported("concatenates something other than [batch] and constant dims; Concat is read only as the target shape [batch, …] of a Reshape");
        }

        var lists = parts.Skip(1).Cast<ConstantValue>().Select(c => (c, What: $"{r.Description}'s {c.Origin}")).ToArray();
        if (lists.Any(l => Tensors.Shape(l.c.Tensor, l.What).Length != 1))
        {
            throw r.Invalid("concatenates a constant that is not a list (rank 1) to the list [batch].");
        }

        var dims = lists.SelectMany(l => Tensors.Int64s(l.c.Tensor, l.What)).ToArray();
        return new BatchTarget(dims, $"the shape [batch, {string.Join(", ", dims)}] ({r.Description})");
    }
}
