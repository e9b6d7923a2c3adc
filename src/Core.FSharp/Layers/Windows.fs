namespace FunctionalBackprop.Core

open System

/// The geometry shared by convolution and pooling: a kernel slid over each channel of an image
/// with a stride, over the image padded with `padding` rows and columns on each side. Output
/// position (oy, ox) reads input rows oy·strideₕ − padₕ … + kernelₕ − 1 and columns likewise;
/// Hₒ = ⌊(H + 2padₕ − kernelₕ)/strideₕ⌋ + 1, Wₒ likewise (PyTorch's and ONNX's rule, rounding down).
module internal Windows =

    /// Hₒ and Wₒ of an input of height h and width w.
    let outputSize (kernel: Window) (stride: Window) (padding: Window) (h: int) (w: int) : struct (int * int) =
        struct ((h + 2 * padding.Height - kernel.Height) / stride.Height + 1, (w + 2 * padding.Width - kernel.Width) / stride.Width + 1)

    /// Why the settings cannot be, if they cannot: a kernel or stride below 1, a negative padding,
    /// or for pooling (`halfKernel`) a padding over half the kernel, where a window could lie in
    /// the padding alone (PyTorch's rule).
    let settingsProblem (what: string) (halfKernel: bool) (kernel: Window) (stride: Window) (padding: Window) : string option =
        if kernel.Height < 1 || kernel.Width < 1 then Some $"A {what}'s kernel must be at least 1×1, got {kernel}."
        elif stride.Height < 1 || stride.Width < 1 then Some $"A {what}'s stride must be at least 1×1, got {stride}."
        elif padding.Height < 0 || padding.Width < 0 then Some $"A {what}'s padding cannot be negative, got {padding}."
        elif halfKernel && (2 * padding.Height > kernel.Height || 2 * padding.Width > kernel.Width) then
            Some $"A {what}'s padding must be at most half its kernel, so that every window meets the image, got {padding} for a {kernel} kernel."
        else None

    /// Why an input of this shape cannot be windowed so, if it cannot: it must be an image, large
    /// enough for one window.
    let inputProblem (what: string) (kernel: Window) (padding: Window) (input: Shape) : string option =
        match input with
        | Shape.Vector n -> Some $"A {what} takes images (channels × height × width), but its input is a vector of {n} values; the layers before it keep images (a Flatten turns images into vectors, not back)."
        | Shape.Image(_, h, w) when h + 2 * padding.Height < kernel.Height || w + 2 * padding.Width < kernel.Width ->
            Some $"A {what} with a {kernel} kernel and {padding} padding needs an input of at least {kernel.Height - 2 * padding.Height}×{kernel.Width - 2 * padding.Width} pixels, got {h}×{w}."
        | Shape.Image _ -> None

    /// The image's channels, height and width (for layers whose input problem is None).
    let dimensions (input: Shape) : struct (int * int * int) =
        match input with
        | Shape.Image(c, h, w) -> struct (c, h, w)
        | Shape.Vector n -> struct (n, 1, 1)
