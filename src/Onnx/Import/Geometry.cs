using System;
using System.Linq;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Onnx.Import;

/// <summary>
/// The window a Conv, MaxPool or AveragePool slides over an image [batch, C, H, W], read from the
/// node's kernel_shape, strides, pads, dilations and auto_pad and any zeros a Pad before it added:
/// the library's kernel, stride and padding (the same rows before and after, the same columns
/// left and right), and the output's height and width (ONNX's floor rule, ceil_mode 0).
/// </summary>
/// <param name="Kernel">kₕ × k_w.</param>
/// <param name="Stride">sₕ × s_w.</param>
/// <param name="Padding">pₕ × p_w, on each side.</param>
/// <param name="Height">The output's height.</param>
/// <param name="Width">The output's width.</param>
internal readonly record struct Geometry(Core.Window Kernel, Core.Window Stride, Core.Window Padding, long Height, long Width)
{
    /// <summary>The core's limit on one example's values, which bounds every size here (and keeps the core's int arithmetic exact).</summary>
    private const long Largest = 1L << 30;

    /// <summary>
    /// The window of the node <paramref name="r"/> on images of height × width. A Conv passes its
    /// weights' kₕ and k_w (kernel_shape is optional there and must agree); a Pad of zeros before
    /// it passes its pads (top, left, bottom, right), added to the node's own.
    /// </summary>
    public static Geometry Read(NodeReader r, long height, long width, long[]? weightsKernel, long[]? padded)
    {
        var autoPad = r.String("auto_pad", "NOTSET");
        if (autoPad != "NOTSET")
        {
            throw r.Unsupported($"sets auto_pad = {OnnxFormat.Quote(autoPad)}; only explicit pads (auto_pad NOTSET) are read");
        }

        var kernel = Pair(r, "kernel_shape", r.Ints("kernel_shape") ?? weightsKernel ?? throw r.Invalid($"has no attribute 'kernel_shape', which {r.Node.OpType} requires."), least: 1);
        if (weightsKernel is not null && !kernel.SequenceEqual(weightsKernel))
        {
            throw r.Invalid($"has kernel_shape [{string.Join(", ", kernel)}], but its weights' kernel is {weightsKernel[0]}×{weightsKernel[1]}.");
        }

        var strides = Pair(r, "strides", r.Ints("strides") ?? new long[] { 1, 1 }, least: 1);
        var dilations = Pair(r, "dilations", r.Ints("dilations") ?? new long[] { 1, 1 }, least: 1);
        if (dilations.Any(d => d != 1))
        {
            throw r.Unsupported($"dilates its window (dilations = [{string.Join(", ", dilations)}]); only windows of adjacent pixels (dilations 1) are read");
        }

        var pads = r.Ints("pads") ?? new long[4];
        if (pads.Length != 4 || pads.Any(p => p < 0))
        {
            throw r.Invalid($"has pads [{string.Join(", ", pads)}]; on [batch, C, H, W] it takes 4 values of 0 or more (top, left, bottom, right).");
        }

        // Each side clamped just past the limit, so that the sums below cannot overflow and still exceed it.
        var total = pads.Select((p, k) => Math.Min(p, Largest + 1) + Math.Min(padded?[k] ?? 0, Largest + 1)).ToArray();
        var (rows, padRows) = Axis(r, "height", height, kernel[0], strides[0], total[0], total[2], total);
        var (columns, padColumns) = Axis(r, "width", width, kernel[1], strides[1], total[1], total[3], total);
        return new Geometry(Window(kernel[0], kernel[1]), Window(strides[0], strides[1]), Window(padRows, padColumns), rows, columns);
    }

    private static Core.Window Window(long height, long width) => new((int)height, (int)width);

    /// <summary>An attribute of two values (height, width), each at least <paramref name="least"/> and at most 2³⁰.</summary>
    private static long[] Pair(NodeReader r, string name, long[] values, long least)
    {
        if (values.Length != 2 || values.Any(v => v < least))
        {
            throw r.Invalid($"has {name} [{string.Join(", ", values)}]; on [batch, C, H, W] it takes 2 values (height, width) of {least} or more.");
        }

        if (values.Any(v => v > Largest))
        {
            throw r.Unsupported($"has {name} [{string.Join(", ", values)}], beyond the 2³⁰ values an image holds");
        }

        return values;
    }

    /// <summary>
    /// One axis of n values with a window of k, stride s and <paramref name="before"/> and
    /// <paramref name="after"/> padding: the output's size, and the padding on each side that gives
    /// the same windows. Unequal padding reads as its first side when the other adds no window
    /// (a window starts at o·s − before whatever comes after); otherwise it is refused.
    /// </summary>
    private static (long Size, long Padding) Axis(NodeReader r, string axis, long n, long k, long s, long before, long after, long[] pads)
    {
        var padded = n + before + after;
        if (padded > Largest || n + (2 * before) > Largest)
        {
            throw r.Unsupported($"pads the image's {axis} of {n} by {before} and {after}, beyond the 2³⁰ values an image holds");
        }

        if (padded < k)
        {
            throw r.Invalid($"slides a window of {k} over the image's {axis} of {n} padded by {before} and {after}: no window fits.");
        }

        var size = ((padded - k) / s) + 1;
        if (before != after && (n + (2 * before) < k || ((n + (2 * before) - k) / s) + 1 != size))
        {
            throw r.Unsupported(
                $"pads the image by [{string.Join(", ", pads)}] (top, left, bottom, right), unequally along its {axis}; the library pads both sides of an axis alike, " +
                "which gives these windows only when the second side's padding adds no window");
        }

        return (size, before);
    }
}
