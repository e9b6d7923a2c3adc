namespace FunctionalBackprop.Core

open System

/// The shape of one example as a layer takes or gives it: a vector of values, or an image of
/// channels × height × width values. Either way an example is one column of a batch, an image's
/// values in channel, row, column order (C-H-W, as PyTorch and ONNX store them), so a layer that
/// reads vectors takes an image as its Size values.
[<RequireQualifiedAccess>]
type Shape =
    /// n values.
    | Vector of width: int
    /// channels × height × width values, stored channel by channel, each channel row by row.
    | Image of channels: int * height: int * width: int

    /// The number of values in one example.
    member s.Size =
        match s with
        | Vector n -> n
        | Image(c, h, w) -> c * h * w

    /// "784" or "1×28×28".
    override s.ToString() =
        match s with
        | Vector n -> string n
        | Image(c, h, w) -> $"{c}×{h}×{w}"

/// Checking shapes.
module Shape =

    /// Why the shape cannot hold examples (a dimension below 1, or more than 2³⁰ values), if it cannot.
    let problem (shape: Shape) : string option =
        match shape with
        | Shape.Vector n when n < 1 -> Some $"A width must be at least 1, got {n}."
        | Shape.Image(c, h, w) when c < 1 || h < 1 || w < 1 -> Some $"An image needs at least one channel, row and column, got {c}×{h}×{w}."
        | Shape.Image(c, h, w) when int64 c * int64 h * int64 w > (1L <<< 30) -> Some $"An image of {c}×{h}×{w} holds more than 2³⁰ values."
        | _ -> None

    /// Throws ArgumentOutOfRangeException, naming the parameter, unless the shape can hold examples.
    let check (parameter: string) (shape: Shape) : unit =
        match problem shape with
        | Some why -> raise (ArgumentOutOfRangeException(parameter, shape, why))
        | None -> ()

/// A window over the rows and columns of an image: a kernel's size, a stride, or a padding.
type Window =
    { /// Rows.
      Height: int
      /// Columns.
      Width: int }

    /// "5×5".
    override w.ToString() = $"{w.Height}×{w.Width}"

/// Making windows.
module Window =

    /// A square window, n × n.
    let square (n: int) : Window = { Height = n; Width = n }

    /// No padding.
    let none: Window = { Height = 0; Width = 0 }
