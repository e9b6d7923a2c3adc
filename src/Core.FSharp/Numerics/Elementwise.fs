namespace FunctionalBackprop.Core

open System
open System.Numerics
open System.Runtime.CompilerServices
open System.Runtime.InteropServices

// Lane-wise kernels: every output lane depends only on the input lanes at its own index, so any
// output may be the same array as any input (each kernel reads a vector's inputs before writing
// its outputs). A kernel is written once, over Vector<'U>, for whole vectors only; Elementwise
// runs it on float or float32 arrays and handles the last partial vector. Kernels do exactly the
// scalar formula's operations in its order (no fused multiply-add), so an element gets the same
// bits whatever the vector width and wherever it falls.

/// out = f(x), lane by lane.
[<AbstractClass>]
type internal UnaryKernel() =
    /// Runs over whole vectors: the spans' length is a multiple of Vector<'U>.Count.
    abstract Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>> :
        x: ReadOnlySpan<'U> * out: Span<'U> -> unit

/// out = f(x, y), lane by lane.
[<AbstractClass>]
type internal BinaryKernel() =
    /// Runs over whole vectors: the spans' length is a multiple of Vector<'U>.Count.
    abstract Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>> :
        x: ReadOnlySpan<'U> * y: ReadOnlySpan<'U> * out: Span<'U> -> unit

/// An optimizer's step with one state slot: from the update u and the slot s, the output and
/// the slot's new value.
[<AbstractClass>]
type internal SlotKernel() =
    /// Runs over whole vectors: the spans' length is a multiple of Vector<'U>.Count.
    abstract Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>> :
        u: ReadOnlySpan<'U> * slot: ReadOnlySpan<'U> * out: Span<'U> * slotOut: Span<'U> -> unit

/// An optimizer's step with two moment slots (Adam's m and v): from the update u and the
/// moments, the output and the moments' new values.
[<AbstractClass>]
type internal MomentsKernel() =
    /// Runs over whole vectors: the spans' length is a multiple of Vector<'U>.Count.
    abstract Run<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>> :
        u: ReadOnlySpan<'U> * first: ReadOnlySpan<'U> * second: ReadOnlySpan<'U> * out: Span<'U> * firstOut: Span<'U> * secondOut: Span<'U> -> unit

/// Per-thread scratch for the last partial vector: up to three inputs and three outputs, each one
/// vector wide, reused by every call (no allocation after a thread's first).
type internal TailBuffers<'U>() =
    [<ThreadStatic; DefaultValue>]
    static val mutable private buffers: 'U[][]

    /// Buffer k (0–2 inputs, 3–5 outputs), one vector wide.
    static member Get(k: int) : 'U[] =
        if isNull TailBuffers<'U>.buffers then
            TailBuffers<'U>.buffers <- Array.init 6 (fun _ -> Array.zeroCreate Vector<'U>.Count)
        TailBuffers<'U>.buffers.[k]

/// Runs lane-wise kernels on arrays of one length: the one dispatch from the element type 'T to
/// the kernel's vector code (float and float32; NotSupportedException for any other type).
/// Whole vectors run in place; the last partial vector runs on zero-padded copies, of which only
/// the real lanes of the outputs are copied back.
module internal Elementwise =

    let private isDouble<'T> = Type.op_Equality (typeof<'T>, typeof<float>)
    let private isSingle<'T> = Type.op_Equality (typeof<'T>, typeof<float32>)

    let private unsupported<'T> () : unit =
        raise (NotSupportedException $"Element-wise kernels are defined for float and float32, not {typeof<'T>.Name}.")

    /// The number of elements in whole vectors.
    let private whole<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType> (n: int) = n - n % Vector<'U>.Count

    /// Input buffer k holding x's lanes from `start` on, zero after them.
    let private padded<'U> (k: int) (x: 'U[]) (start: int) : ReadOnlySpan<'U> =
        let b = TailBuffers<'U>.Get k
        Array.Clear b
        Array.Copy(x, start, b, 0, x.Length - start)
        ReadOnlySpan b

    /// Copies the real lanes of output buffer k back to out from `start` on.
    let private unpad<'U> (k: int) (out: 'U[]) (start: int) : unit =
        Array.Copy(TailBuffers<'U>.Get k, 0, out, start, out.Length - start)

    let private head (x: 'U[]) (n: int) = ReadOnlySpan<'U>(x, 0, n)
    let private headOut (x: 'U[]) (n: int) = Span<'U>(x, 0, n)

    [<HotPath>]
    let private runUnary<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>
        (k: UnaryKernel) (x: 'U[]) (out: 'U[]) =
        let n = whole<'U> out.Length
        k.Run<'U>(head x n, headOut out n)
        if n < out.Length then
            k.Run<'U>(padded 0 x n, Span(TailBuffers<'U>.Get 3))
            unpad 3 out n

    [<HotPath>]
    let private runBinary<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>
        (k: BinaryKernel) (x: 'U[]) (y: 'U[]) (out: 'U[]) =
        let n = whole<'U> out.Length
        k.Run<'U>(head x n, head y n, headOut out n)
        if n < out.Length then
            k.Run<'U>(padded 0 x n, padded 1 y n, Span(TailBuffers<'U>.Get 3))
            unpad 3 out n

    [<HotPath>]
    let private runSlot<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>
        (k: SlotKernel) (u: 'U[]) (slot: 'U[]) (out: 'U[]) (slotOut: 'U[]) =
        let n = whole<'U> out.Length
        k.Run<'U>(head u n, head slot n, headOut out n, headOut slotOut n)
        if n < out.Length then
            k.Run<'U>(padded 0 u n, padded 1 slot n, Span(TailBuffers<'U>.Get 3), Span(TailBuffers<'U>.Get 4))
            unpad 3 out n
            unpad 4 slotOut n

    [<HotPath>]
    let private runMoments<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>
        (k: MomentsKernel) (u: 'U[]) (first: 'U[]) (second: 'U[]) (out: 'U[]) (firstOut: 'U[]) (secondOut: 'U[]) =
        let n = whole<'U> out.Length
        k.Run<'U>(head u n, head first n, head second n, headOut out n, headOut firstOut n, headOut secondOut n)
        if n < out.Length then
            k.Run<'U>(padded 0 u n, padded 1 first n, padded 2 second n, Span(TailBuffers<'U>.Get 3), Span(TailBuffers<'U>.Get 4), Span(TailBuffers<'U>.Get 5))
            unpad 3 out n
            unpad 4 firstOut n
            unpad 5 secondOut n

    /// The array as float[] ('T is float) or float32[] ('T is float32): the same object.
    let inline private f64 (a: 'T[]) : float[] = box a :?> float[]
    let inline private f32 (a: 'T[]) : float32[] = box a :?> float32[]

    /// out = k(x).
    [<HotPath>]
    let unary<'T when 'T :> IFloatingPointIeee754<'T>> (k: UnaryKernel) (x: 'T[]) (out: 'T[]) : unit =
        if isDouble<'T> then runUnary k (f64 x) (f64 out)
        elif isSingle<'T> then runUnary k (f32 x) (f32 out)
        else unsupported<'T> ()

    /// out = k(x, y).
    [<HotPath>]
    let binary<'T when 'T :> IFloatingPointIeee754<'T>> (k: BinaryKernel) (x: 'T[]) (y: 'T[]) (out: 'T[]) : unit =
        if isDouble<'T> then runBinary k (f64 x) (f64 y) (f64 out)
        elif isSingle<'T> then runBinary k (f32 x) (f32 y) (f32 out)
        else unsupported<'T> ()

    /// (out, slotOut) = k(u, slot).
    [<HotPath>]
    let withSlot<'T when 'T :> IFloatingPointIeee754<'T>> (k: SlotKernel) (u: 'T[]) (slot: 'T[]) (out: 'T[]) (slotOut: 'T[]) : unit =
        if isDouble<'T> then runSlot k (f64 u) (f64 slot) (f64 out) (f64 slotOut)
        elif isSingle<'T> then runSlot k (f32 u) (f32 slot) (f32 out) (f32 slotOut)
        else unsupported<'T> ()

    /// (out, firstOut, secondOut) = k(u, first, second).
    [<HotPath>]
    let withMoments<'T when 'T :> IFloatingPointIeee754<'T>>
        (k: MomentsKernel) (u: 'T[]) (first: 'T[]) (second: 'T[]) (out: 'T[]) (firstOut: 'T[]) (secondOut: 'T[]) : unit =
        if isDouble<'T> then runMoments k (f64 u) (f64 first) (f64 second) (f64 out) (f64 firstOut) (f64 secondOut)
        elif isSingle<'T> then runMoments k (f32 u) (f32 first) (f32 second) (f32 out) (f32 firstOut) (f32 secondOut)
        else unsupported<'T> ()

    /// The span's memory as a span of 'U, where 'T and 'U are the same type (checked by callers).
    let inline private asU<'T, 'U> (s: ReadOnlySpan<'T>) : ReadOnlySpan<'U> =
        MemoryMarshal.CreateReadOnlySpan(&Unsafe.As<'T, 'U>(&MemoryMarshal.GetReference s), s.Length)

    let inline private asUOut<'T, 'U> (s: Span<'T>) : Span<'U> =
        MemoryMarshal.CreateSpan(&Unsafe.As<'T, 'U>(&MemoryMarshal.GetReference s), s.Length)

    /// Input buffer k holding x's lanes from `start` on, zero after them (for spans).
    let private paddedSpan<'U> (k: int) (x: ReadOnlySpan<'U>) (start: int) : ReadOnlySpan<'U> =
        let b = TailBuffers<'U>.Get k
        Array.Clear b
        x.Slice(start).CopyTo(Span b)
        ReadOnlySpan b

    /// The vector at x[i …] (unchecked: the loops below stay inside whole vectors of spans at
    /// least as long as their output).
    let inline load<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType> (x: ReadOnlySpan<'U>) (i: int) : Vector<'U> =
        Vector.LoadUnsafe(&MemoryMarshal.GetReference x, unativeint i)

    /// Writes v at out[i …] (unchecked, as load).
    let inline store<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType> (v: Vector<'U>) (out: Span<'U>) (i: int) : unit =
        Vector.StoreUnsafe(v, &MemoryMarshal.GetReference out, unativeint i)

    /// out = f(x, y) over spans, whole vectors in place and the tail on padded copies.
    let inline private lanes2<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>>
        (x: ReadOnlySpan<'U>, y: ReadOnlySpan<'U>, out: Span<'U>, [<InlineIfLambda>] f: Vector<'U> -> Vector<'U> -> Vector<'U>) =
        let width = Vector<'U>.Count
        let n = out.Length - out.Length % width
        if x.Length < out.Length || y.Length < out.Length then
            raise (ArgumentException($"The inputs hold {x.Length} and {y.Length} values, the output {out.Length}."))
        let mutable i = 0
        while i < n do
            store (f (load x i) (load y i)) out i
            i <- i + width
        if n < out.Length then
            let o = TailBuffers<'U>.Get 3
            let v = f (Vector<'U>(paddedSpan 0 x n)) (Vector<'U>(paddedSpan 1 y n))
            v.CopyTo(o)
            ReadOnlySpan<'U>(o, 0, out.Length - n).CopyTo(out.Slice(n))

    [<HotPath>]
    let private addOf<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>> (x: ReadOnlySpan<'U>, y: ReadOnlySpan<'U>, out: Span<'U>) =
        lanes2 (x, y, out, fun a b -> a + b)

    [<HotPath>]
    let private scaleAddOf<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>> (x: ReadOnlySpan<'U>, alpha: 'U, y: ReadOnlySpan<'U>, out: Span<'U>) =
        let a = Vector<'U>(alpha)
        lanes2 (x, y, out, fun u v -> u * a + v)

    [<HotPath>]
    let private scaleOf<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>> (x: ReadOnlySpan<'U>, alpha: 'U, out: Span<'U>) =
        let a = Vector<'U>(alpha)
        lanes2 (x, x, out, fun u _ -> u * a)

    [<HotPath>]
    let private addScalarOf<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>> (x: ReadOnlySpan<'U>, alpha: 'U, out: Span<'U>) =
        let a = Vector<'U>(alpha)
        lanes2 (x, x, out, fun u _ -> u + a)

    [<HotPath>]
    let private allFiniteOf<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType and 'U :> IFloatingPointIeee754<'U>> (x: ReadOnlySpan<'U>) : bool =
        // v − v is 0 for a finite v and NaN for NaN or ±∞
        let width = Vector<'U>.Count
        let n = x.Length - x.Length % width
        let mutable finite = true
        let mutable i = 0
        while finite && i < n do
            let v = Vector<'U>(x.Slice(i, width))
            finite <- Vector.EqualsAll(v - v, Vector<'U>.Zero)
            i <- i + width
        while finite && i < x.Length do
            finite <- 'U.IsFinite x.[i]
            i <- i + 1
        finite

    /// out = x + y, entry by entry.
    let add<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>, y: ReadOnlySpan<'T>, out: Span<'T>) : unit =
        if isDouble<'T> then addOf<float> (asU x, asU y, asUOut out)
        elif isSingle<'T> then addOf<float32> (asU x, asU y, asUOut out)
        else unsupported<'T> ()

    /// out = x·α + y, entry by entry: a product, then a sum, each rounded (never a fused
    /// multiply-add), so α = 1 gives the bits of x + y.
    let scaleAdd<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>, alpha: 'T, y: ReadOnlySpan<'T>, out: Span<'T>) : unit =
        if isDouble<'T> then scaleAddOf<float> (asU x, Double.CreateTruncating alpha, asU y, asUOut out)
        elif isSingle<'T> then scaleAddOf<float32> (asU x, Single.CreateTruncating alpha, asU y, asUOut out)
        else unsupported<'T> ()

    /// out = x·α, entry by entry.
    let scale<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>, alpha: 'T, out: Span<'T>) : unit =
        if isDouble<'T> then scaleOf<float> (asU x, Double.CreateTruncating alpha, asUOut out)
        elif isSingle<'T> then scaleOf<float32> (asU x, Single.CreateTruncating alpha, asUOut out)
        else unsupported<'T> ()

    /// out = x + α, entry by entry.
    let addScalar<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>, alpha: 'T, out: Span<'T>) : unit =
        if isDouble<'T> then addScalarOf<float> (asU x, Double.CreateTruncating alpha, asUOut out)
        elif isSingle<'T> then addScalarOf<float32> (asU x, Single.CreateTruncating alpha, asUOut out)
        else unsupported<'T> ()

    /// Whether every entry is finite (no NaN, no ±∞).
    let allFinite<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) : bool =
        if isDouble<'T> then allFiniteOf<float> (asU x)
        elif isSingle<'T> then allFiniteOf<float32> (asU x)
        else
            let mutable finite = true
            for v in x do finite <- finite && 'T.IsFinite v
            finite

    /// eˣ lane by lane (Vector.Exp exists for float and float32 only).
    let inline exp<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType> (v: Vector<'U>) : Vector<'U> =
        if Type.op_Equality (typeof<'U>, typeof<float>) then Vector.As<float, 'U>(Vector.Exp(Vector.As<'U, float> v))
        else Vector.As<float32, 'U>(Vector.Exp(Vector.As<'U, float32> v))

    /// Checks what the unchecked loops below rely on: an output of whole vectors and inputs at
    /// least as long.
    let checkWhole<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType> (out: int) (inputs: int) : unit =
        if out % Vector<'U>.Count <> 0 || inputs < out then
            raise (ArgumentException($"A kernel runs over whole vectors of {Vector<'U>.Count} lanes with inputs as long as the output; given an output of {out} and an input of {inputs}."))

    // The loops of the kernels' Run methods, written once: f gets each whole vector's lanes and
    // returns the output lanes (inlined, lambda and all, into each kernel: no closure).

    /// out = f(x) for every whole vector.
    let inline map1<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType>
        (x: ReadOnlySpan<'U>, out: Span<'U>, [<InlineIfLambda>] f: Vector<'U> -> Vector<'U>) =
        checkWhole<'U> out.Length x.Length
        let mutable i = 0
        while i < out.Length do
            store (f (load x i)) out i
            i <- i + Vector<'U>.Count

    /// out = f(x, y) for every whole vector.
    let inline map2<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType>
        (x: ReadOnlySpan<'U>, y: ReadOnlySpan<'U>, out: Span<'U>, [<InlineIfLambda>] f: Vector<'U> -> Vector<'U> -> Vector<'U>) =
        checkWhole<'U> out.Length (min x.Length y.Length)
        let mutable i = 0
        while i < out.Length do
            store (f (load x i) (load y i)) out i
            i <- i + Vector<'U>.Count

    /// (out, slotOut) = f(u, slot) for every whole vector.
    let inline mapSlot<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType>
        (u: ReadOnlySpan<'U>, slot: ReadOnlySpan<'U>, out: Span<'U>, slotOut: Span<'U>,
         [<InlineIfLambda>] f: Vector<'U> -> Vector<'U> -> struct (Vector<'U> * Vector<'U>)) =
        checkWhole<'U> out.Length (min (min u.Length slot.Length) slotOut.Length)
        let mutable i = 0
        while i < out.Length do
            let struct (o, s) = f (load u i) (load slot i)
            store s slotOut i
            store o out i
            i <- i + Vector<'U>.Count

    /// (out, firstOut, secondOut) = f(u, first, second) for every whole vector.
    let inline mapMoments<'U when 'U: struct and 'U: (new: unit -> 'U) and 'U :> ValueType>
        (u: ReadOnlySpan<'U>, first: ReadOnlySpan<'U>, second: ReadOnlySpan<'U>, out: Span<'U>, firstOut: Span<'U>, secondOut: Span<'U>,
         [<InlineIfLambda>] f: Vector<'U> -> Vector<'U> -> Vector<'U> -> struct (Vector<'U> * Vector<'U> * Vector<'U>)) =
        checkWhole<'U> out.Length (min (min u.Length first.Length) (min (min second.Length firstOut.Length) secondOut.Length))
        let mutable i = 0
        while i < out.Length do
            let struct (o, m, v) = f (load u i) (load first i) (load second i)
            store m firstOut i
            store v secondOut i
            store o out i
            i <- i + Vector<'U>.Count
