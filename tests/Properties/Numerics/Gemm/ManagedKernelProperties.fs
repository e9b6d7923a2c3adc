/// The managed kernel (Numerics/Gemm/ManagedKernel.fs and the loops, tiles and packing under it):
/// the exact product to rounding on every shape, transpose, α, β and leading dimension, at every
/// SIMD width the run allows (CI runs these again with the wider widths switched off), and the
/// same bits however the product is run.
module FunctionalBackprop.Properties.Gemm.ManagedKernelProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Gemm.Problems

let private inEither (p: Problem) (f32: unit -> Property) (f64: unit -> Property) = if p.Float32 then f32 () else f64 ()

/// The product with C of NaN and with C of zeros, β = 0: the same bits.
let private overwrites<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (p: Problem) () =
    let overNaN =
        through<'T> p (fun a b c ->
            for q in 0 .. c.Length - 1 do c.[q] <- 'T.NaN
            managed p a b c)
    let overZero =
        through<'T> p (fun a b c ->
            for q in 0 .. c.Length - 1 do if q % p.Ldc < p.M then c.[q] <- 'T.Zero else c.[q] <- 'T.NaN
            managed p a b c)
    sameBits "C of NaN against C of zeros" overZero overNaN

/// The product twice: the same bits.
let private repeats<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (p: Problem) () =
    sameBits "second run" (through<'T> p (managed p)) (through<'T> p (managed p))

/// The product with the tiles reading op(A) and op(B) from the given sources.
let private via<'T when 'T: unmanaged and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> Numerics.IFloatingPointIeee754<'T>>
    (p: Problem) (sa: Source) (sb: Source) =
    through<'T> p (fun a b c ->
        ManagedKernel.gemmFrom sa sb p.TransA p.TransB p.M p.N p.K (Real.ofFloat p.Alpha) a p.Lda b p.Ldb (Real.ofFloat p.Beta) c p.Ldc)

/// Every pair of sources: the bits of packing both.
let private sourcesAgree<'T when 'T: unmanaged and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> Numerics.IFloatingPointIeee754<'T>>
    (p: Problem) () =
    let packed = via<'T> p Source.Pack Source.Pack
    sameBits "op(A) in place" packed (via<'T> p Source.InPlace Source.Pack)
    .&. sameBits "op(B) in place" packed (via<'T> p Source.Pack Source.InPlace)
    .&. sameBits "both in place" packed (via<'T> p Source.InPlace Source.InPlace)

/// α = 0 with A and B of NaN: C becomes β·C exactly (0 for β = 0).
let private scalesOnly<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (p: Problem) () =
    let _, _, c0 = p.Operands<'T>()
    let beta = Real.ofFloat<'T> p.Beta
    let expected = c0 |> Array.mapi (fun q x -> if q % p.Ldc >= p.M then x elif p.Beta = 0.0 then 'T.Zero else 'T.op_Multiply (beta, x))
    let result = through<'T> p (fun a b c -> Array.fill a 0 a.Length 'T.NaN; Array.fill b 0 b.Length 'T.NaN; managed p a b c)
    sameBits "β·C" expected result

/// The product on this thread alone and on every core: the same bits.
let private threadsAgree<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (p: Problem) () =
    let alone =
        through<'T> p (fun a b c ->
            let saved = GemmScope.SingleThreaded
            GemmScope.SingleThreaded <- true
            try managed p a b c finally GemmScope.SingleThreaded <- saved)
    sameBits "on every core" alone (through<'T> p (managed p))

[<Properties(Arbitrary = [| typeof<ProblemArbitraries> |], MaxTest = 300)>]
module Products =

    [<Property>]
    let ``the managed product equals the exact product to rounding, padding untouched`` (p: Problem) =
        inEither p (fun () -> checkExact p (through<float32> p (managed p))) (fun () -> checkExact p (through<float> p (managed p)))

    [<Property>]
    let ``with β = 0 whatever C held is overwritten, NaN too`` (p: Problem) =
        let p = { p with Beta = 0.0 }
        inEither p (overwrites<float32> p) (overwrites<float> p)

    [<Property>]
    let ``a product has the same bits run after run`` (p: Problem) =
        inEither p (repeats<float32> p) (repeats<float> p)

    [<Property>]
    let ``every choice of where the tiles read the operands gives the same bits`` (p: Problem) =
        inEither p (sourcesAgree<float32> p) (sourcesAgree<float> p)

    [<Property>]
    let ``with α = 0 C becomes β·C, A and B unread`` (p: Problem) =
        let p = { p with Alpha = 0.0 }
        inEither p (scalesOnly<float32> p) (scalesOnly<float> p)

[<Properties(MaxTest = 12)>]
module Threads =

    [<Property>]
    let ``a product has the same bits on one thread as on every core`` () =
        // On a machine of one processor both runs take one thread, and the property holds trivially.
        Prop.forAll (Arb.fromGen threaded) (fun p -> inEither p (threadsAgree<float32> p) (threadsAgree<float> p))

    [<Property>]
    let ``the threads' bands are whole tiles that cover C once`` (size: PositiveInt) (parts: PositiveInt) (splitRows: bool) =
        let size, parts = min size.Get 5000, min parts.Get 16
        let job = ProductJob<Lanes1<float>, float, float>()
        job.Blocking <- ManagedKernel.BlockingOf<float>.Value
        job.Operands <- { Unchecked.defaultof<Operands<float>> with M = size; N = size }
        job.SplitRows <- splitRows
        job.Parts <- parts
        let step = if splitRows then job.Blocking.MR else job.Blocking.NR
        let bounds = [ for t in 0 .. parts -> job.Bound t ]
        (bounds.Head = 0 && List.last bounds = size) |> Prop.label $"ends {bounds}"
        .&. (List.pairwise bounds |> List.forall (fun (x, y) -> x <= y)) |> Prop.label $"in order {bounds}"
        .&. (bounds |> List.forall (fun x -> x = size || x % step = 0)) |> Prop.label $"on tiles of {step}: {bounds}"

/// The SIMD width the properties ran at, when the run names the one it meant to check
/// (FUNCTIONALBACKPROP_EXPECT_VECTOR_BITS: 512, 256, 128 or 0; .ci/run sets it beside the
/// runtime's switches, so that a switch that stopped working fails rather than checks the same
/// width twice); skipped otherwise.
type ExpectedWidthFactAttribute() as this =
    inherit FactAttribute()
    do
        if String.IsNullOrEmpty(Environment.GetEnvironmentVariable "FUNCTIONALBACKPROP_EXPECT_VECTOR_BITS") then
            this.Skip <- "FUNCTIONALBACKPROP_EXPECT_VECTOR_BITS is not set: no width was asked for."

[<ExpectedWidthFact>]
let ``the kernel runs at the SIMD width the run asked for`` () =
    let expected = Environment.GetEnvironmentVariable "FUNCTIONALBACKPROP_EXPECT_VECTOR_BITS"
    let actual =
        match ManagedKernel.bits with
        | Bits512 -> "512"
        | Bits256 -> "256"
        | Bits128 -> "128"
        | Bits0 -> "0"
    Assert.Equal(expected, actual)

[<Fact>]
let ``after its first product of a size the managed kernel allocates nothing`` () =
    // The shapes of a training step (W3's, a shard's of W1) and a large product on every core.
    let shapes = [ false, false, 100, 16, 784; false, true, 100, 784, 16; true, false, 100, 16, 10; false, false, 256, 256, 256 ]
    let cases = [| for ta, tb, m, n, k in shapes -> (ta, tb, m, n, k), (Array.create (m * k) 0.5, Array.create (k * n) 0.25, Array.zeroCreate<float> (m * n)) |]
    let products () =
        for q in 0 .. cases.Length - 1 do
            let (ta, tb, m, n, k), (a, b, c) = cases.[q]
            ManagedKernel.gemm ta tb m n k 1.0 a (if ta then k else m) b (if tb then n else k) 0.0 c m
    for _ in 1 .. 3 do products ()
    // Seven windows of 50 rounds: one allocation per product would add at least 24 bytes × 200 to
    // every window; the runtime's own occasional allocations touch a few windows, not the median.
    let window () =
        let before = GC.GetAllocatedBytesForCurrentThread()
        for _ in 1 .. 50 do products ()
        GC.GetAllocatedBytesForCurrentThread() - before
    let windows = Array.init 7 (fun _ -> window ()) |> Array.sort
    Assert.True(windows.[3] < 1024L, $"bytes per window of 200 products, sorted: %A{windows}")

[<Fact>]
let ``an array too short for its shape is refused, naming it`` () =
    let p = ManagedGemm.Instance :> IGemmProvider
    let e = Assert.Throws<ArgumentException>(fun () -> p.Dgemm(false, false, 4, 3, 2, 1.0, Array.zeroCreate 7, 4, Array.zeroCreate 6, 2, 0.0, Array.zeroCreate 12, 4))
    Assert.Equal("A", e.ParamName)
    let e = Assert.Throws<ArgumentException>(fun () -> p.Sgemm(false, true, 4, 3, 2, 1.0f, Array.zeroCreate 8, 4, Array.zeroCreate 5, 3, 0.0f, Array.zeroCreate 12, 4))
    Assert.Equal("B", e.ParamName)
    let e = Assert.Throws<ArgumentException>(fun () -> p.Dgemm(false, false, 4, 3, 2, 1.0, Array.zeroCreate 8, 4, Array.zeroCreate 6, 2, 0.0, Array.zeroCreate 11, 4))
    Assert.Equal("C", e.ParamName)
    Assert.Throws<ArgumentOutOfRangeException>(fun () -> p.Dgemm(false, false, 4, 3, 2, 1.0, Array.zeroCreate 8, 3, Array.zeroCreate 6, 2, 0.0, Array.zeroCreate 12, 4)) |> ignore
