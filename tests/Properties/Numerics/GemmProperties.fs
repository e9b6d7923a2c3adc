/// The GEMM providers: the same products to rounding, on every shape and transpose (the native
/// BLAS where one is installed).
module FunctionalBackprop.Properties.GemmProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators

/// A product C = op(A)·op(B) of m×k by k×n, with the entries of A and B drawn from a seed.
type Product = { M: int; N: int; K: int; TransA: bool; TransB: bool; Seed: uint64; Float32: bool }

type GemmArbitraries =
    static member Product() =
        // Dimensions of 1 are drawn often: 1×n, n×1 and inner products are the edge cases.
        let dimension = Gen.frequency [ 1, Gen.constant 1; 3, Gen.choose (2, 70) ]
        gen {
            let! m = dimension
            let! n = dimension
            let! k = dimension
            let! ta = Gen.elements [ false; true ]
            let! tb = Gen.elements [ false; true ]
            let! seed = Gen.choose (0, Int32.MaxValue)
            let! f32 = Gen.elements [ false; true ]
            return { M = m; N = n; K = k; TransA = ta; TransB = tb; Seed = uint64 seed; Float32 = f32 }
        }
        |> Arb.fromGen

/// The product through a provider, and the exact-to-rounding float64 reference with the error
/// bound of each entry: γₖ·Σₚ|op(A)ᵢₚ||op(B)ₚⱼ| with γₖ = 2kε (Higham, Accuracy and Stability,
/// §3.1) for each of the two computations compared.
let private compare<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (p: Product) =
    let a: 'T[] = Random.normals p.Seed 0.0 1.0 (p.M * p.K) |> Array.map Real.ofFloat
    let b: 'T[] = Random.normals (p.Seed + 1UL) 0.0 1.0 (p.K * p.N) |> Array.map Real.ofFloat
    let opA i q = if p.TransA then a.[q + i * p.K] else a.[i + q * p.M]
    let opB q j = if p.TransB then b.[j + q * p.N] else b.[q + j * p.K]
    let product (provider: IGemmProvider) =
        let c: 'T[] = Array.create (p.M * p.N) (Real.ofFloat 7.0)
        Gemm.withProvider provider (fun () -> Gemm.run p.TransA p.TransB p.M p.N p.K 'T.One a b 'T.Zero c)
        c |> Array.map Real.toFloat
    let results = Provider.Available |> List.map (fun provider -> provider, product provider.Instance)
    let gamma = 2.0 * float p.K * Real.epsilon<'T> ()
    [ for j in 0 .. p.N - 1 do
          for i in 0 .. p.M - 1 do
              let exact = Seq.sum (seq { for q in 0 .. p.K - 1 -> Real.toFloat (opA i q) * Real.toFloat (opB q j) })
              let bound = gamma * Seq.sum (seq { for q in 0 .. p.K - 1 -> Math.Abs(Real.toFloat (opA i q) * Real.toFloat (opB q j)) }) + 1e-300
              let k = i + j * p.M
              for provider, c in results ->
                  Math.Abs(c.[k] - exact) <= bound |> Prop.label $"{provider} ({i}, {j}): {c.[k]:R}, exact {exact:R}" ]
    |> List.reduce (.&.)

[<Properties(Arbitrary = [| typeof<GemmArbitraries> |], MaxTest = 200)>]
module Products =

    [<Property>]
    let ``every provider's product equals the exact product to rounding`` (p: Product) =
        if p.Float32 then compare<float32> p else compare<float> p

/// A fact about the native BLAS: skipped, saying why, on a machine without one (or when
/// FUNCTIONALBACKPROP_GEMM=managed keeps native libraries out of the process).
type NativeBlasFactAttribute() as this =
    inherit FactAttribute()
    do
        if (Gemm.native ()).IsNone then
            this.Skip <- $"""No native BLAS on this machine ({String.Join("; ", NativeBlas.loadFailures ())})."""

/// A fact that holds only when FUNCTIONALBACKPROP_GEMM has the given value (unset for ""):
/// skipped, saying so, otherwise.
type GemmSettingFactAttribute(setting: string) as this =
    inherit FactAttribute()
    do
        let actual = match Environment.GetEnvironmentVariable "FUNCTIONALBACKPROP_GEMM" with null -> "" | v -> v
        if actual <> setting then
            this.Skip <- $"""For FUNCTIONALBACKPROP_GEMM={(if setting = "" then "(unset)" else setting)}; this run has {(if actual = "" then "(unset)" else actual)}."""

[<NativeBlasFact>]
let ``with a native BLAS installed, the default provider is that library with the managed kernel beside it`` () =
    // No test here changes the process's provider (they scope theirs with Gemm.withProvider), so
    // the default is what the process chose at its first product: the native library routing by
    // shape, unless FUNCTIONALBACKPROP_GEMM said otherwise (managed: NativeBlasFact skips, nothing
    // being loaded; native: the library alone).
    let native = (Gemm.native ()).Value
    match GemmRequest.current () with
    | NativeOnly -> Assert.Same(native :> IGemmProvider, Gemm.provider ())
    | _ ->
        let chosen = Assert.IsType<NativeGemm>(Gemm.provider ())
        Assert.True(chosen.ByShape)
        Assert.False(native.ByShape)
        Assert.Equal(native.Path, chosen.Path)
        Assert.StartsWith((native :> IGemmProvider).Name, (chosen :> IGemmProvider).Name)
        Assert.Contains("managed", (chosen :> IGemmProvider).Name)

/// The product through a provider, as GemmProperties' compare draws it, as bits.
let private bitsThrough<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (p: Product) (provider: IGemmProvider) =
    let a: 'T[] = Random.normals p.Seed 0.0 1.0 (p.M * p.K) |> Array.map Real.ofFloat
    let b: 'T[] = Random.normals (p.Seed + 1UL) 0.0 1.0 (p.K * p.N) |> Array.map Real.ofFloat
    let c: 'T[] = Array.zeroCreate (p.M * p.N)
    Gemm.withProvider provider (fun () -> Gemm.run p.TransA p.TransB p.M p.N p.K 'T.One a b 'T.Zero c)
    c |> Array.map (fun x -> BitConverter.DoubleToInt64Bits(Real.toFloat x))

[<Properties(Arbitrary = [| typeof<GemmArbitraries> |], MaxTest = 100)>]
module Routing =

    [<Property>]
    let ``the library routing by shape gives each product the bits of the provider its rule names`` (p: Product) =
        match Gemm.native () with
        | None -> true |> Prop.label "no native library: nothing routes"
        | Some native ->
            let routed = native.WithManagedWhereFaster()
            let managed = GemmChoice.managedIsFaster p.TransA p.M p.N p.K
            let expected: IGemmProvider = if managed then ManagedGemm.Instance else native
            let same =
                if p.Float32 then bitsThrough<float32> p routed = bitsThrough<float32> p expected
                else bitsThrough<float> p routed = bitsThrough<float> p expected
            same |> Prop.label $"""routed to {(if managed then "managed" else "native")}"""

[<Fact>]
let ``FUNCTIONALBACKPROP_GEMM names the managed kernel, the native library, or neither`` () =
    Assert.Equal(Automatic, GemmRequest.parse null)
    Assert.Equal(Automatic, GemmRequest.parse "")
    Assert.Equal(ManagedOnly, GemmRequest.parse "managed")
    Assert.Equal(NativeOnly, GemmRequest.parse "native")

[<Theory; InlineData("Managed"); InlineData("openblas"); InlineData(" native")>]
let ``a FUNCTIONALBACKPROP_GEMM naming no provider is an error naming the variable and the values it takes`` (wrong: string) =
    let e = Assert.Throws<InvalidOperationException>(fun () -> GemmRequest.parse wrong |> ignore)
    Assert.Contains($"FUNCTIONALBACKPROP_GEMM={wrong} names no provider", e.Message)
    Assert.Contains("\"managed\" or \"native\"", e.Message)

[<Fact>]
let ``the process's FUNCTIONALBACKPROP_GEMM request is the parse of the variable, read once`` () =
    let request = GemmRequest.current ()
    Assert.Equal(GemmRequest.parse (Environment.GetEnvironmentVariable "FUNCTIONALBACKPROP_GEMM"), request)
    // Read once: changing the variable later changes nothing (the provider is chosen already).
    let saved = Environment.GetEnvironmentVariable "FUNCTIONALBACKPROP_GEMM"
    try
        Environment.SetEnvironmentVariable("FUNCTIONALBACKPROP_GEMM", (if request = ManagedOnly then "native" else "managed"))
        Assert.Equal(request, GemmRequest.current ())
    finally
        Environment.SetEnvironmentVariable("FUNCTIONALBACKPROP_GEMM", saved)

[<GemmSettingFact("managed")>]
let ``with FUNCTIONALBACKPROP_GEMM=managed no native library is loaded`` () =
    // The switch .ci/run uses to run the suite as on a machine without a native BLAS.
    Assert.True((Gemm.native ()).IsNone)
    Assert.Equal("managed", (Gemm.provider ()).Name)

[<Fact>]
let ``a scoped provider applies to its block and thread only`` () =
    // A provider of one's own (the managed kernel under another name).
    let own =
        { new IGemmProvider with
            member _.Name = "own"
            member _.Dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) = (ManagedGemm.Instance :> IGemmProvider).Dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            member _.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) = (ManagedGemm.Instance :> IGemmProvider).Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) }
    let outside = Gemm.provider ()
    let inside = Gemm.withProvider own (fun () -> Gemm.provider ())
    Assert.Same(own, inside)
    Assert.Same(outside, Gemm.provider ())
