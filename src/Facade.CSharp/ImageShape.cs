using System;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>
/// The shape of an image example: channels × height × width. Its values are stored channel by
/// channel, each channel row by row (C-H-W, as PyTorch and ONNX store them), so a network whose
/// first layer is dense takes the image as its <see cref="Size"/> values in that order.
/// </summary>
/// <param name="Channels">Channels (1 for grey levels, 3 for RGB).</param>
/// <param name="Height">Rows of pixels.</param>
/// <param name="Width">Columns of pixels.</param>
public readonly record struct ImageShape(int Channels, int Height, int Width)
{
    /// <summary>Channels · height · width: the values of one example.</summary>
    public long Size => (long)Channels * Height * Width;

    /// <summary>"1×28×28".</summary>
    public override string ToString() => $"{Channels}×{Height}×{Width}";

    /// <summary>The core's shape, after checking each dimension (at least 1, at most 2³⁰ values), naming the caller's parameters.</summary>
    internal Core.Shape ToCore(string channels, string height, string width)
    {
        var (name, value) = Channels < 1 ? (channels, Channels) : Height < 1 ? (height, Height) : Width < 1 ? (width, Width) : (null, 0);
        if (name is not null)
        {
            throw new ArgumentOutOfRangeException(name, value, $"An image needs at least one channel, row and column, got {this}.");
        }

        var shape = Core.Shape.NewImage(Channels, Height, Width);
        if (Core.ShapeModule.problem(shape) is { } why)
        {
            throw new ArgumentOutOfRangeException(channels, Channels, why.Value);
        }

        return shape;
    }

    /// <summary>The image shape of a core shape, or null for a vector.</summary>
    internal static ImageShape? FromCore(Core.Shape shape) =>
        shape is Core.Shape.Image image ? new ImageShape(image.channels, image.height, image.width) : null;
}

/// <summary>
/// A window's height and width: a kernel's size, a stride, or a padding (the rows and columns
/// added on each side). An <see cref="int"/> converts to the square <c>n × n</c>, so
/// <c>Conv2D(6, kernel: 5, padding: 2)</c> reads as PyTorch's <c>Conv2d(…, 6, 5, padding=2)</c>.
/// </summary>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
public readonly record struct Size2D(int Height, int Width)
{
    /// <summary>The square window n × n.</summary>
    /// <param name="n">Its height and width.</param>
    public static implicit operator Size2D(int n) => new(n, n);

    /// <summary>The square window n × n (the named form of the implicit conversion).</summary>
    /// <param name="n">Its height and width.</param>
    public static Size2D Square(int n) => new(n, n);

    /// <summary>"5×5".</summary>
    public override string ToString() => $"{Height}×{Width}";

    internal Core.Window ToCore() => new(Height, Width);

    internal static Size2D FromCore(Core.Window window) => new(window.Height, window.Width);
}
