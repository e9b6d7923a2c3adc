namespace FunctionalBackprop.Core

open System

/// Training images moved by whole pixels: a digit shifted by a pixel is the same digit, so adding
/// shifted copies of the training images teaches a network that a translation does not change the
/// class (Simard, Steinkraus and Platt, "Best practices for convolutional neural networks applied
/// to visual document analysis", 2003, augment with such distortions). Pixels moved in from
/// outside the image are 0.
module Translations =

    /// The four moves by n pixels (rows down, columns right): down, up, right, left.
    let fourWays (n: int) : struct (int * int) list = [ struct (n, 0); struct (-n, 0); struct (0, n); struct (0, -n) ]

    /// x'[c, y, x] = x[c, y − dy, x − dx], and 0 where (y − dy, x − dx) lies outside the image.
    let translateInto (shape: Shape) (struct (dy: int, dx: int)) (source: ReadOnlySpan<'T>) (target: Span<'T>) : unit =
        match shape with
        | Shape.Vector n -> raise (ArgumentException($"Only images can be moved; these examples are vectors of {n} values.", "shape"))
        | Shape.Image(c, h, w) ->
            target.Slice(0, c * h * w).Clear()
            // the columns x whose source x − dx lies in 0 … w − 1, and likewise the rows
            let x0, x1 = Math.Max(0, dx), Math.Min(w, w + dx)
            let y0, y1 = Math.Max(0, dy), Math.Min(h, h + dy)
            if x1 > x0 then
                for ch in 0 .. c - 1 do
                    for y in y0 .. y1 - 1 do
                        source.Slice((ch * h + y - dy) * w + x0 - dx, x1 - x0).CopyTo(target.Slice((ch * h + y) * w + x0, x1 - x0))

    /// Each example (a column of inputs, an image of the shape) followed by its copies moved by each
    /// of the moves, every copy with its example's target: (1 + moves) × as many examples.
    let augment (shape: Shape) (moves: struct (int * int) list) (inputs: Matrix<'T>) (targets: Matrix<'T>) : Matrix<'T> * Matrix<'T> =
        if inputs.cols <> targets.cols then
            raise (ArgumentException($"There are {inputs.cols} inputs but {targets.cols} targets.", "targets"))
        if shape.Size <> inputs.rows then
            raise (ArgumentException($"The inputs have {inputs.rows} values each, not the {shape.Size} of a {shape} image.", "inputs"))
        let copies = 1 + List.length moves
        let count = int64 copies * int64 inputs.cols
        if count * int64 (max inputs.rows targets.rows) > int64 Array.MaxLength then
            raise (ArgumentException($"{inputs.cols} examples with {copies - 1} moved copies each are too many values for one array.", "moves"))
        let r, t = inputs.rows, targets.rows
        let moved = Array.zeroCreate<'T> (int count * r)
        let repeated = Array.zeroCreate<'T> (int count * t)
        for j in 0 .. inputs.cols - 1 do
            let image = ReadOnlySpan<'T>(inputs.values, j * r, r)
            let label = ReadOnlySpan<'T>(targets.values, j * t, t)
            let first = j * copies
            image.CopyTo(Span<'T>(moved, first * r, r))
            let mutable k = first + 1
            for move in moves do
                translateInto shape move image (Span<'T>(moved, k * r, r))
                k <- k + 1
            for k in 0 .. copies - 1 do
                label.CopyTo(Span<'T>(repeated, (first + k) * t, t))
        { rows = r; cols = int count; values = moved }, { rows = t; cols = int count; values = repeated }
