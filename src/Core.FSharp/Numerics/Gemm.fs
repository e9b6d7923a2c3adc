namespace FunctionalBackprop.Core

open System
open System.Numerics

/// The GEMM seam: every matrix product of the forward and backward passes goes through
/// Gemm.run, so a faster provider (a native BLAS) sits behind it without touching the math.
///
/// At the first product the provider is chosen: where a native CBLAS loads (see NativeBlas), that
/// library with the managed kernel beside it, each product going to whichever is faster for its
/// shape (GemmChoice); else the managed kernel. The environment variable FUNCTIONALBACKPROP_GEMM
/// forces one alone: "managed" or "native". Gemm.useProvider changes it for the whole process,
/// Gemm.withProvider for one block on one thread. Providers differ only by rounding.
module Gemm =

    let private chooseAtStart () : IGemmProvider =
        match GemmRequest.current () with
        | ManagedOnly -> ManagedGemm.Instance
        | NativeOnly ->
            match NativeBlas.load () with
            | Some native -> native
            | None ->
                let tried = String.Join("; ", NativeBlas.loadFailures ())
                raise (InvalidOperationException($"{GemmRequest.Variable}=native, but no native CBLAS could be loaded ({tried}). Install one (Debian: apt-get install libopenblas0-pthread) or unset the variable."))
        | Automatic ->
            match NativeBlas.load () with
            | Some native -> native.WithManagedWhereFaster()
            | None -> ManagedGemm.Instance

    let private atStart = lazy (chooseAtStart ())
    let mutable private chosen: IGemmProvider option = None

    /// The provider products on this thread go through now.
    let provider () : IGemmProvider =
        let scoped = GemmScope.Current
        if not (isNull (box scoped)) then scoped
        else
            match chosen with
            | Some p -> p
            | None -> atStart.Force()

    /// Routes every later product in the process through the given provider.
    let useProvider (p: IGemmProvider) : unit =
        if isNull (box p) then nullArg "p"
        chosen <- Some p

    /// The native provider alone if one loads (Some), else None; does not change the current provider.
    let native () : NativeGemm option = NativeBlas.load ()

    /// Runs f with products on this thread going through p, then restores what was there.
    let withProvider (p: IGemmProvider) (f: unit -> 'R) : 'R =
        if isNull (box p) then nullArg "p"
        let saved = GemmScope.Current
        GemmScope.Current <- p
        try f () finally GemmScope.Current <- saved

    /// C ← α·op(A)·op(B) + β·C on whole column-major arrays (see IGemmProvider for the shapes).
    [<HotPath>]
    let run<'T when 'T :> IFloatingPointIeee754<'T>>
        (transA: bool) (transB: bool) (m: int) (n: int) (k: int)
        (alpha: 'T) (a: 'T[]) (b: 'T[]) (beta: 'T) (c: 'T[]) : unit =
        if m > 0 && n > 0 then
            if k = 0 then
                // An empty inner dimension contributes nothing: C ← β·C.
                for i in 0 .. m * n - 1 do
                    c.[i] <- if 'T.IsZero(beta) then 'T.Zero else 'T.op_Multiply (beta, c.[i])
            else
                let lda = if transA then k else m
                let ldb = if transB then n else k
                let p = provider ()
                if Type.op_Equality (typeof<'T>, typeof<float>) then
                    p.Dgemm(
                        transA, transB, m, n, k, Double.CreateTruncating alpha, (box a :?> float[]), lda,
                        (box b :?> float[]), ldb, Double.CreateTruncating beta, (box c :?> float[]), m)
                elif Type.op_Equality (typeof<'T>, typeof<float32>) then
                    p.Sgemm(
                        transA, transB, m, n, k, Single.CreateTruncating alpha, (box a :?> float32[]), lda,
                        (box b :?> float32[]), ldb, Single.CreateTruncating beta, (box c :?> float32[]), m)
                else
                    raise (NotSupportedException $"Matrix products are defined for float and float32, not {typeof<'T>.Name}.")
