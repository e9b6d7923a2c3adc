namespace FunctionalBackprop.Core

open System
open System.Numerics
open System.Runtime.CompilerServices
open System.Runtime.InteropServices

/// An element-wise step over same-length arrays of one type (inputs and outputs by position),
/// written once with Vector<'U> for the vector types. Run covers whole vectors only; see
/// Elementwise.run for the tail and the dispatch from 'T.
[<AbstractClass>]
type internal VectorKernel() =
    /// Computes the vectors of elements start, start + Vector<'U>.Count, … up to stop
    /// (exclusive; stop − start is a multiple of the vector width). Reads every input lane before
    /// writing an output lane at the same index, so an output may be the same array as an input.
    abstract Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>> : arrays: 'U[][] * start: int * stop: int -> unit

/// Per-thread scratch for Elementwise.run's last partial vector: one buffer of one vector's
/// width per argument position, and the array of arguments handed to the kernel.
type internal TailBuffers<'U>() =
    [<ThreadStatic; DefaultValue>]
    static val mutable private buffers: 'U[][]

    [<ThreadStatic; DefaultValue>]
    static val mutable private arguments: 'U[][]

    /// The arguments array for `count` positions, with buffers of `width` elements ready.
    static member For(count: int, width: int) : 'U[][] =
        if isNull TailBuffers<'U>.buffers || TailBuffers<'U>.buffers.Length < count || TailBuffers<'U>.buffers.[0].Length < width then
            TailBuffers<'U>.buffers <- Array.init (max count 8) (fun _ -> Array.zeroCreate width)
        if isNull TailBuffers<'U>.arguments || TailBuffers<'U>.arguments.Length <> count then
            TailBuffers<'U>.arguments <- Array.zeroCreate count
        TailBuffers<'U>.arguments

    /// The buffer for argument position k (after For).
    static member Buffer(k: int) : 'U[] = TailBuffers<'U>.buffers.[k]

/// The element-wise steps of the backward pass that TensorPrimitives has no single operation
/// for, vectorised with Vector<'T> for float and float32 (a scalar loop for any other type).
///
/// Each kernel does, per element, exactly the scalar operations in the scalar order (no fused
/// multiply-add), so its results are the same bits as the loop it replaces, whatever the vector
/// width. Every output element depends only on the input elements at its own index, so the
/// output may alias any input.
module internal Elementwise =

    /// The span's memory as a span of 'U, where 'T and 'U are the same type (checked by callers).
    let inline private reinterpret<'T, 'U> (s: ReadOnlySpan<'T>) : ReadOnlySpan<'U> =
        MemoryMarshal.CreateReadOnlySpan(&Unsafe.As<'T, 'U>(&MemoryMarshal.GetReference s), s.Length)

    let inline private reinterpretMutable<'T, 'U> (s: Span<'T>) : Span<'U> =
        MemoryMarshal.CreateSpan(&Unsafe.As<'T, 'U>(&MemoryMarshal.GetReference s), s.Length)

    // The kernels, over a vector type. Each runs whole vectors, then the tail element by element.

    let private sigmoidKernel<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>
        (a: ReadOnlySpan<'U>, g: ReadOnlySpan<'U>, dz: Span<'U>) =
        let width = Vector<'U>.Count
        let mutable i = 0
        while i <= dz.Length - width do
            let av = Vector<'U>(a.Slice(i, width))
            let gv = Vector<'U>(g.Slice(i, width))
            (gv * (av * (Vector<'U>.One - av))).CopyTo(dz.Slice(i, width))
            i <- i + width
        while i < dz.Length do
            dz.[i] <- g.[i] * (a.[i] * ('U.One - a.[i]))
            i <- i + 1

    let private tanhKernel<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>
        (a: ReadOnlySpan<'U>, g: ReadOnlySpan<'U>, dz: Span<'U>) =
        let width = Vector<'U>.Count
        let mutable i = 0
        while i <= dz.Length - width do
            let av = Vector<'U>(a.Slice(i, width))
            let gv = Vector<'U>(g.Slice(i, width))
            (gv * (Vector<'U>.One - av * av)).CopyTo(dz.Slice(i, width))
            i <- i + width
        while i < dz.Length do
            dz.[i] <- g.[i] * ('U.One - a.[i] * a.[i])
            i <- i + 1

    /// dz = g where z > 0, else slope·g (slope 0: ReLU, whose 0 is then +0 whatever g's sign).
    let private rectifierKernel<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>
        (slope: 'U, z: ReadOnlySpan<'U>, g: ReadOnlySpan<'U>, dz: Span<'U>) =
        let width = Vector<'U>.Count
        let leaky = not ('U.IsZero slope)
        let slopes = Vector<'U>(slope)
        let mutable i = 0
        while i <= dz.Length - width do
            let zv = Vector<'U>(z.Slice(i, width))
            let gv = Vector<'U>(g.Slice(i, width))
            let otherwise = if leaky then slopes * gv else Vector<'U>.Zero
            Vector.ConditionalSelect(Vector.GreaterThan(zv, Vector<'U>.Zero), gv, otherwise).CopyTo(dz.Slice(i, width))
            i <- i + width
        while i < dz.Length do
            dz.[i] <- if 'U.op_GreaterThan (z.[i], 'U.Zero) then g.[i] elif leaky then slope * g.[i] else 'U.Zero
            i <- i + 1

    let private isDouble<'T> = Type.op_Equality (typeof<'T>, typeof<float>)
    let private isSingle<'T> = Type.op_Equality (typeof<'T>, typeof<float32>)

    /// dz = g ⊙ (a ⊙ (1 − a)): the sigmoid's backward step from a = σ(z).
    let sigmoidBackward<'T when 'T :> IFloatingPointIeee754<'T>> (a: ReadOnlySpan<'T>, g: ReadOnlySpan<'T>, dz: Span<'T>) : unit =
        if isDouble<'T> then sigmoidKernel<float> (reinterpret a, reinterpret g, reinterpretMutable dz)
        elif isSingle<'T> then sigmoidKernel<float32> (reinterpret a, reinterpret g, reinterpretMutable dz)
        else
            for i in 0 .. dz.Length - 1 do
                dz.[i] <- g.[i] * (a.[i] * ('T.One - a.[i]))

    /// dz = g ⊙ (1 − a ⊙ a): tanh's backward step from a = tanh z.
    let tanhBackward<'T when 'T :> IFloatingPointIeee754<'T>> (a: ReadOnlySpan<'T>, g: ReadOnlySpan<'T>, dz: Span<'T>) : unit =
        if isDouble<'T> then tanhKernel<float> (reinterpret a, reinterpret g, reinterpretMutable dz)
        elif isSingle<'T> then tanhKernel<float32> (reinterpret a, reinterpret g, reinterpretMutable dz)
        else
            for i in 0 .. dz.Length - 1 do
                dz.[i] <- g.[i] * ('T.One - a.[i] * a.[i])

    /// dz = g where z > 0, else slope·g: the backward step of ReLU (slope 0, giving +0) and of
    /// leaky ReLU.
    let rectifierBackward<'T when 'T :> IFloatingPointIeee754<'T>> (slope: 'T, z: ReadOnlySpan<'T>, g: ReadOnlySpan<'T>, dz: Span<'T>) : unit =
        if isDouble<'T> then rectifierKernel<float> (Real.toFloat slope, reinterpret z, reinterpret g, reinterpretMutable dz)
        elif isSingle<'T> then rectifierKernel<float32> (float32 (Real.toFloat slope), reinterpret z, reinterpret g, reinterpretMutable dz)
        else
            let leaky = not ('T.IsZero slope)
            for i in 0 .. dz.Length - 1 do
                dz.[i] <- if 'T.op_GreaterThan (z.[i], 'T.Zero) then g.[i] elif leaky then slope * g.[i] else 'T.Zero

    /// Runs a vector kernel over the arrays (all of one length) as float or float32: whole
    /// vectors in place, then the last partial vector on zero-padded copies, of which only the
    /// real elements of the outputs (the arrays at positions `outputs`) are copied back. An
    /// array passed twice (an output over its input) gets one copy, so aliasing behaves the same
    /// in the tail. Lanes are independent, so each element gets the same bits wherever it falls.
    /// The copies are per-thread buffers reused by every call: no allocation.
    let run<'T when 'T :> IFloatingPointIeee754<'T>> (kernel: VectorKernel) (outputs: int list) (arrays: 'T[][]) : unit =
        let go (arrays: 'U[][]) =
            let n = arrays.[0].Length
            let width = Vector<'U>.Count
            let whole = n - n % width
            kernel.Run<'U>(arrays, 0, whole)
            if whole < n then
                let tails = TailBuffers<'U>.For(arrays.Length, width)
                for k in 0 .. arrays.Length - 1 do
                    // The first earlier position holding the same array, if any.
                    let mutable same = -1
                    for j in k - 1 .. -1 .. 0 do
                        if obj.ReferenceEquals(arrays.[j], arrays.[k]) then same <- j
                    if same >= 0 then tails.[k] <- tails.[same]
                    else
                        let copy = TailBuffers<'U>.Buffer(k)
                        Array.Clear copy
                        Array.Copy(arrays.[k], whole, copy, 0, n - whole)
                        tails.[k] <- copy
                kernel.Run<'U>(tails, 0, width)
                for k in outputs do
                    Array.Copy(tails.[k], 0, arrays.[k], whole, n - whole)
        if isDouble<'T> then go (box arrays :?> float[][])
        elif isSingle<'T> then go (box arrays :?> float32[][])
        else raise (NotSupportedException $"Element-wise kernels are defined for float and float32, not {typeof<'T>.Name}.")
