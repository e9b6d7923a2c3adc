/// Matrix: its constructors and accessors undo each other, its products equal the textbook triple
/// loop (exactly where the sums are exact, to a derived rounding bound otherwise), its element-wise
/// operations equal their scalar loops bit for bit, bad indices and shapes are refused in the
/// caller's terms, and no function changes its arguments.
module FunctionalBackprop.Properties.MatrixProperties

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open FunctionalBackprop.Core
open FunctionalBackprop.Properties.Generators
open FunctionalBackprop.Properties.Messages

/// The unit roundoff u = ε/2 of 'T: 2⁻⁵³ for float, 2⁻²⁴ for float32.
let private unitRoundoff<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> () = Real.epsilon<'T> () / 2.0

/// γₙ = nu/(1 − nu). A sum of n products computed in floating point, in any order, is within
/// γₙ·Σ|terms| of the exact sum (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed.,
/// §3.1); fused multiply-adds, which BLAS kernels use, round less and only lower it (§2.6).
let private gamma (u: float) (n: int) = float n * u / (1.0 - float n * u)

/// The smallest positive subnormal of 'T, as a float.
let private smallestSubnormal<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> () = Real.toFloat 'T.Epsilon

let private bits (x: float) = BitConverter.DoubleToInt64Bits x

/// Shape and entries as bits, for equality to the last bit (float32 entries widen exactly).
let private snapshot (m: Matrix<'T>) = m.Rows, m.Cols, m.ToArray() |> Array.map (Real.toFloat >> bits)

/// "3×4", written here rather than taken from Matrix.shape, for the messages.
let private shapeOf (rows: int) (cols: int) = $"{rows}×{cols}"

/// A dimension: 0 and 1 often (the edge cases: empty matrices, vectors, inner products).
let private dimension (largest: int) = Gen.frequency [ 1, Gen.constant 0; 2, Gen.constant 1; 6, Gen.choose (2, largest) ]

/// Small integers: products and sums of a few hundred of them are exact in float32 and float.
let private smallInteger = Gen.choose (-8, 8) |> Gen.map float

/// Reals of either sign up to 2¹² in magnitude, of 20 significant bits (exact in float32).
let private real =
    Gen.map2 (fun (m: int) (e: int) -> float m * Math.Pow(2.0, float e - 20.0)) (Gen.choose (-(1 <<< 20), 1 <<< 20)) (Gen.choose (-12, 12))

/// Finite values that stress element-wise code: signed zeros, subnormals, the largest finite
/// values (whose sums overflow to ±∞ identically in both computations), ordinary reals.
let private awkward =
    Gen.frequency
        [ 6, real
          1, Gen.elements [ 0.0; -0.0; Double.Epsilon; -Double.Epsilon; 1e-310; Double.MaxValue; -Double.MaxValue; 1.0 ] ]

/// A matrix's shape and entries (column-major), generated as float64 values.
type Entries =
    { Rows: int; Cols: int; Values: float[] }
    member e.Matrix<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>() : Matrix<'T> =
        Matrix.ofColumnMajor e.Rows e.Cols (Array.map Real.ofFloat<'T> e.Values)

let private entriesOf (value: Gen<float>) (rows: Gen<int>) (cols: Gen<int>) =
    gen {
        let! r = rows
        let! c = cols
        let! v = Gen.arrayOfLength (r * c) value
        return { Rows = r; Cols = c; Values = v }
    }

/// A matrix with at least one column, and column indices into it (repeats allowed).
type Selection = { Source: Entries; Indices: int[]; Start: int; Count: int }

/// A shape and an index outside it: one of −3 … −1 or size … size + 2, in rows, columns or both.
type OutsideIndex = { Shape: int * int; Row: int; Column: int; BadRow: bool; BadColumn: bool }

/// Two matrices of different shapes (a pair an element-wise operation must refuse).
type Mismatch = { Left: Entries; Right: Entries }

/// op(A)·op(B) for m×k by k×n: A is stored m×k (or k×m when transposed), B k×n (or n×k).
type Product = { M: int; N: int; K: int; A: float[]; B: float[]; Integers: bool; Float32: bool }

/// A product whose inner dimensions disagree: A is m×k, B is k'×n with k' ≠ k.
type BadProduct = { M: int; N: int; K: int; K': int }

/// A finite matrix with NaN or ±∞ written at some positions (column-major indices), maybe none.
type Planted = { Finite: Entries; Plants: (int * float) list; Float32: bool }

/// Up to 40 doubles of every finite magnitude.
type Doubles = { Numbers: float[] }

/// A column index outside a rows×cols matrix (−3 … −1 or cols … cols + 2), good indices to hide
/// it among (the bad one goes at position At), and the length of a run of columns ending at it.
type OutsideColumn = { Rows: int; Cols: int; Column: int; Others: int[]; At: int; Count: int }

/// Doubles of every finite magnitude (any sign, exponent field 0 … 2046, any mantissa).
let private anyFinite =
    gen {
        let! sign = Gen.elements [ 0L; 1L ]
        let! exponent = Gen.frequency [ 1, Gen.elements [ 0; 1; 2046 ]; 8, Gen.choose (0, 2046); 8, Gen.choose (1023 - 160, 1023 + 160) ]
        let! high = Gen.choose (0, (1 <<< 26) - 1)
        let! low = Gen.choose (0, (1 <<< 26) - 1)
        return BitConverter.Int64BitsToDouble((sign <<< 63) ||| (int64 exponent <<< 52) ||| (int64 high <<< 26) ||| int64 low)
    }

type MatrixArbitraries =
    static member Entries() = entriesOf awkward (dimension 9) (dimension 9) |> Arb.fromGen

    static member Doubles() =
        Gen.choose (0, 40) |> Gen.bind (fun n -> Gen.arrayOfLength n anyFinite) |> Gen.map (fun v -> { Numbers = v }) |> Arb.fromGen

    static member OutsideColumn() =
        gen {
            let! rows = dimension 6
            let! cols = dimension 6
            let! j = Gen.oneof [ Gen.choose (-3, -1); Gen.choose (cols, cols + 2) ]
            let! others =
                if cols = 0 then Gen.constant [||]
                else Gen.choose (0, 5) |> Gen.bind (fun n -> Gen.arrayOfLength n (Gen.choose (0, cols - 1)))
            let! at = Gen.choose (0, others.Length)
            let! count = Gen.choose (1, 3)
            return { Rows = rows; Cols = cols; Column = j; Others = others; At = at; Count = count }
        }
        |> Arb.fromGen

    static member Selection() =
        gen {
            let! source = entriesOf real (dimension 8) (Gen.choose (1, 8))
            let! n = Gen.choose (0, 12)
            let! indices = Gen.arrayOfLength n (Gen.choose (0, source.Cols - 1))
            let! start = Gen.choose (0, source.Cols)
            let! count = Gen.choose (0, source.Cols - start)
            return { Source = source; Indices = indices; Start = start; Count = count }
        }
        |> Arb.fromGen

    static member OutsideIndex() =
        let outside (size: int) = Gen.oneof [ Gen.choose (-3, -1); Gen.choose (size, size + 2) ]
        let inside (size: int) = if size = 0 then Gen.constant 0 else Gen.choose (0, size - 1)
        gen {
            let! rows = dimension 6
            let! cols = dimension 6
            // Where a dimension is 0 every index is outside it; otherwise choose which is bad.
            let! badRow, badColumn =
                match rows, cols with
                | 0, 0 -> Gen.constant (true, true)
                | 0, _ -> Gen.elements [ true, false; true, true ]
                | _, 0 -> Gen.elements [ false, true; true, true ]
                | _ -> Gen.elements [ true, false; false, true; true, true ]
            let! i = if badRow then outside rows else inside rows
            let! j = if badColumn then outside cols else inside cols
            return { Shape = (rows, cols); Row = i; Column = j; BadRow = badRow; BadColumn = badColumn }
        }
        |> Arb.fromGen

    static member Mismatch() =
        gen {
            let! r = dimension 5
            let! c = dimension 5
            let! dr, dc = Gen.elements [ 1, 0; 0, 1; 2, 3 ]
            let! swap = Gen.elements [ false; true ]
            let! a = entriesOf real (Gen.constant r) (Gen.constant c)
            let! b = entriesOf real (Gen.constant (r + dr)) (Gen.constant (c + dc))
            return if swap then { Left = b; Right = a } else { Left = a; Right = b }
        }
        |> Arb.fromGen

    static member Product() =
        gen {
            let! m = dimension 40
            let! n = dimension 40
            let! k = dimension 40
            let! integers = Gen.elements [ false; true ]
            let value = if integers then smallInteger else real
            let! a = Gen.arrayOfLength (m * k) value
            let! b = Gen.arrayOfLength (k * n) value
            let! f32 = Gen.elements [ false; true ]
            return { M = m; N = n; K = k; A = a; B = b; Integers = integers; Float32 = f32 }
        }
        |> Arb.fromGen

    static member BadProduct() =
        gen {
            let! m = dimension 5
            let! n = dimension 5
            let! k = dimension 5
            let! d = Gen.choose (1, 3)
            let! smaller = Gen.elements [ false; true ]
            // k' differs from k by d, above it or (when k allows) below it.
            let k' = if smaller && k >= d then k - d else k + d
            return { M = m; N = n; K = k; K' = k' }
        }
        |> Arb.fromGen

    static member Planted() =
        gen {
            let finiteValue = Gen.frequency [ 6, real; 1, Gen.elements [ Double.MaxValue; -Double.MaxValue; Double.Epsilon; -0.0 ] ]
            let! finite = entriesOf finiteValue (Gen.choose (1, 6)) (Gen.choose (1, 6))
            let! count = Gen.choose (0, 3)
            let! plants =
                Gen.listOfLength count (Gen.zip (Gen.choose (0, finite.Rows * finite.Cols - 1)) (Gen.elements [ nan; infinity; -infinity ]))
            let! f32 = Gen.elements [ false; true ]
            return { Finite = finite; Plants = plants; Float32 = f32 }
        }
        |> Arb.fromGen

    static member Provider() = Arbitraries.Provider()


[<Properties(Arbitrary = [| typeof<MatrixArbitraries> |], MaxTest = 100)>]
module RoundTrips =

    [<Property>]
    let ``ofColumnMajor puts values[i + j·rows] at entry (i, j) and ToArray gives them back`` (e: Entries) =
        let m = e.Matrix<float> ()
        let byEntry = [| for j in 0 .. e.Cols - 1 do for i in 0 .. e.Rows - 1 -> bits m.[i, j] |]
        (m.Rows = e.Rows && m.Cols = e.Cols) |> Prop.label "shape"
        .&. ((byEntry = Array.map bits e.Values) |> Prop.label "entries")
        .&. ((Array.map bits (m.ToArray()) = Array.map bits e.Values) |> Prop.label "ToArray")
        .&. ((Array.map bits (m.AsSpan().ToArray()) = Array.map bits e.Values) |> Prop.label "AsSpan")

    [<Property>]
    let ``ofColumns puts column j at entries (·, j), and column and toColumns give the columns back`` (e: Entries) =
        let columns = Array.init e.Cols (fun j -> Array.init e.Rows (fun i -> e.Values.[i + j * e.Rows]))
        let m = Matrix.ofColumns columns
        // With no columns there is no column to tell the height: the result is 0×0.
        let expectedRows = if e.Cols = 0 then 0 else e.Rows
        (m.Rows = expectedRows && m.Cols = e.Cols) |> Prop.label $"shape {shapeOf m.Rows m.Cols}"
        .&. ((Seq.forall (fun (i, j) -> bits m.[i, j] = bits columns.[j].[i]) (seq { for j in 0 .. m.Cols - 1 do for i in 0 .. m.Rows - 1 -> i, j })) |> Prop.label "entries")
        .&. ((Array.init m.Cols (fun j -> Matrix.column j m |> Array.map bits) = Array.map (Array.map bits) columns) |> Prop.label "column j")
        .&. ((Matrix.toColumns m |> Array.map (Array.map bits)) = Array.map (Array.map bits) columns |> Prop.label "toColumns")

    [<Property>]
    let ``ofRows puts row i at entries (i, ·), and row gives it back`` (e: Entries) =
        let rows = Array.init e.Rows (fun i -> Array.init e.Cols (fun j -> e.Values.[i + j * e.Rows]))
        let m = Matrix.ofRows rows
        let expectedCols = if e.Rows = 0 then 0 else e.Cols
        (m.Rows = e.Rows && m.Cols = expectedCols) |> Prop.label $"shape {shapeOf m.Rows m.Cols}"
        .&. ((Seq.forall (fun (i, j) -> bits m.[i, j] = bits rows.[i].[j]) (seq { for j in 0 .. m.Cols - 1 do for i in 0 .. m.Rows - 1 -> i, j })) |> Prop.label "entries")
        .&. ((Array.init m.Rows (fun i -> Matrix.row i m |> Array.map bits) = Array.map (Array.map bits) rows) |> Prop.label "row i")

    [<Property>]
    let ``ofArray2D and toArray2D undo each other, empty dimensions included`` (e: Entries) =
        let a = Array2D.init e.Rows e.Cols (fun i j -> e.Values.[i + j * e.Rows])
        let m = Matrix.ofArray2D a
        let back = Matrix.toArray2D m
        let same (x: float[,]) (y: float[,]) =
            Array2D.length1 x = Array2D.length1 y && Array2D.length2 x = Array2D.length2 y
            && Seq.forall2 (fun (p: float) (q: float) -> bits p = bits q) (Seq.cast<float> x) (Seq.cast<float> y)
        (m.Rows = e.Rows && m.Cols = e.Cols) |> Prop.label "shape"
        .&. ((Seq.forall (fun (i, j) -> bits m.[i, j] = bits a.[i, j]) (seq { for j in 0 .. e.Cols - 1 do for i in 0 .. e.Rows - 1 -> i, j })) |> Prop.label "entries")
        .&. (same a back |> Prop.label "toArray2D (ofArray2D a) = a")
        .&. ((snapshot (Matrix.ofArray2D back) = snapshot m) |> Prop.label "ofArray2D (toArray2D m) = m")

    [<Property>]
    let ``selectColumns takes the listed columns in order, repeats allowed`` (s: Selection) =
        let m = s.Source.Matrix<float> ()
        let picked = Matrix.selectColumns s.Indices m
        (picked.Rows = m.Rows && picked.Cols = s.Indices.Length) |> Prop.label "shape"
        .&. ((Array.init picked.Cols (fun k -> Matrix.column k picked |> Array.map bits) = Array.map (fun j -> Matrix.column j m |> Array.map bits) s.Indices)
             |> Prop.label "column k is column indices[k]")

    [<Property>]
    let ``sliceColumns start count selects columns start … start + count − 1`` (s: Selection) =
        let m = s.Source.Matrix<float> ()
        snapshot (Matrix.sliceColumns s.Start s.Count m) = snapshot (Matrix.selectColumns (Array.init s.Count (fun k -> s.Start + k)) m)

    [<Property>]
    let ``transpose swaps the indices and is an involution`` (e: Entries) =
        let m = e.Matrix<float> ()
        let t = Matrix.transpose m
        (t.Rows = m.Cols && t.Cols = m.Rows) |> Prop.label "shape"
        .&. ((Seq.forall (fun (i, j) -> bits t.[j, i] = bits m.[i, j]) (seq { for j in 0 .. m.Cols - 1 do for i in 0 .. m.Rows - 1 -> i, j })) |> Prop.label "(mᵀ)ⱼᵢ = mᵢⱼ")
        .&. ((snapshot (Matrix.transpose t) = snapshot m) |> Prop.label "(mᵀ)ᵀ = m")

    [<Property>]
    let ``ofVector is the n×1 column, and zeros and init fill by their definitions`` (e: Entries) =
        let v = Matrix.ofVector e.Values
        let z = Matrix.zeros<float> e.Rows e.Cols
        let f i j = float (100 * i + j)
        let made = Matrix.init e.Rows e.Cols f
        (snapshot v = (e.Values.Length, 1, Array.map bits e.Values)) |> Prop.label "ofVector"
        .&. ((snapshot z = (e.Rows, e.Cols, Array.create (e.Rows * e.Cols) (bits 0.0))) |> Prop.label "zeros")
        .&. ((Seq.forall (fun (i, j) -> made.[i, j] = f i j) (seq { for j in 0 .. e.Cols - 1 do for i in 0 .. e.Rows - 1 -> i, j })) |> Prop.label "init")

[<Fact>]
let ``no columns or no rows make the 0×0 matrix`` () =
    Assert.Equal((0, 0), (let m = Matrix.ofColumns ([]: float[] list) in m.Rows, m.Cols))
    Assert.Equal((0, 0), (let m = Matrix.ofRows ([]: float[] list) in m.Rows, m.Cols))

[<Properties(Arbitrary = [| typeof<MatrixArbitraries> |], MaxTest = 100)>]
module IndexErrors =

    [<Property>]
    let ``an entry outside the matrix is refused, naming the entry and the shape`` (o: OutsideIndex) =
        let rows, cols = o.Shape
        let m = Matrix.zeros<float> rows cols
        let e = refused<ArgumentOutOfRangeException> (fun () -> box m.[o.Row, o.Column])
        mentions e.Message [ $"({o.Row}, {o.Column})"; shapeOf rows cols ]

    [<Property>]
    let ``a column or row outside the matrix is refused, naming it and the shape`` (o: OutsideIndex) =
        let rows, cols = o.Shape
        let m = Matrix.zeros<float> rows cols
        let column () =
            let e = refused<ArgumentOutOfRangeException> (fun () -> box (Matrix.column o.Column m))
            (e.ParamName = "j" |> Prop.label $"parameter {e.ParamName}") .&. mentions e.Message [ $"Column {o.Column}"; shapeOf rows cols ]
        let row () =
            let e = refused<ArgumentOutOfRangeException> (fun () -> box (Matrix.row o.Row m))
            (e.ParamName = "i" |> Prop.label $"parameter {e.ParamName}") .&. mentions e.Message [ $"Row {o.Row}"; shapeOf rows cols ]
        match o.BadRow, o.BadColumn with
        | true, true -> column () .&. row ()
        | true, false -> row ()
        | _ -> column ()

    [<Property>]
    let ``selectColumns and sliceColumns refuse columns outside, naming them and the shape`` (o: OutsideColumn) =
        let m = Matrix.zeros<float> o.Rows o.Cols
        let indices = Array.insertAt o.At o.Column o.Others
        let selected = refused<ArgumentOutOfRangeException> (fun () -> box (Matrix.selectColumns indices m))
        // A run that starts before the first column, or ends at the bad column past the last.
        let start = if o.Column < 0 then o.Column else o.Column - o.Count + 1
        let sliced = refused<ArgumentOutOfRangeException> (fun () -> box (Matrix.sliceColumns start o.Count m))
        let negative = refused<ArgumentOutOfRangeException> (fun () -> box (Matrix.sliceColumns 0 -o.Count m))
        (selected.ParamName = "indices" |> Prop.label $"parameter {selected.ParamName}")
        .&. mentions selected.Message [ $"Column {o.Column}"; shapeOf o.Rows o.Cols ]
        .&. mentions sliced.Message [ $"Columns {start}…{start + o.Count - 1}"; shapeOf o.Rows o.Cols ]
        .&. mentions negative.Message [ shapeOf o.Rows o.Cols ]

    [<Property>]
    let ``ragged columns and rows are refused, naming the first one that differs`` (e: Entries) (extra: PositiveInt) =
        // Columns (or rows) of e, with the k-th made longer by `extra` entries, k ≥ 1.
        let cols = Math.Max(e.Cols, 2)
        let columns = Array.init cols (fun j -> Array.init e.Rows (fun i -> float (i + j)))
        let k = 1 + extra.Get % (cols - 1)
        let ragged = columns |> Array.mapi (fun j c -> if j = k then Array.append c (Array.zeroCreate extra.Get) else c)
        let byColumns = refused<ArgumentException> (fun () -> box (Matrix.ofColumns ragged))
        let byRows = refused<ArgumentException> (fun () -> box (Matrix.ofRows ragged))
        let withNull = refused<ArgumentException> (fun () -> box (Matrix.ofColumns (Array.updateAt k null columns)))
        let long = e.Rows + extra.Get
        mentions byColumns.Message [ $"Column {k} has {long} entries"; $"column 0 has {e.Rows}" ]
        .&. mentions byRows.Message [ $"Row {k} has {long} entries"; $"row 0 has {e.Rows}" ]
        .&. mentions withNull.Message [ $"Column {k} is null" ]

    [<Property>]
    let ``values of the wrong count and negative dimensions are refused`` (e: Entries) (extra: PositiveInt) =
        let wrong = refused<ArgumentException> (fun () -> box (Matrix.ofColumnMajor e.Rows e.Cols (Array.zeroCreate<float> (e.Rows * e.Cols + extra.Get))))
        let negativeRows = refused<ArgumentOutOfRangeException> (fun () -> box (Matrix.zeros<float> -extra.Get e.Cols))
        let negativeCols = refused<ArgumentOutOfRangeException> (fun () -> box (Matrix.init e.Rows -extra.Get (fun _ _ -> 0.0)))
        mentions wrong.Message [ shapeOf e.Rows e.Cols; $"needs {e.Rows * e.Cols} values"; $"got {e.Rows * e.Cols + extra.Get}" ]
        .&. (negativeRows.ParamName = "rows" |> Prop.label "rows")
        .&. (negativeCols.ParamName = "cols" |> Prop.label "cols")

/// op(A) and op(B) of a product case as functions of (row, column), from the stored arrays.
let private operands (p: Product) (transA: bool) (transB: bool) =
    let opA i q = if transA then p.A.[q + i * p.K] else p.A.[i + q * p.M]
    let opB q j = if transB then p.B.[j + q * p.N] else p.B.[q + j * p.K]
    opA, opB

/// The product by its definition, Σₚ op(A)ᵢₚ op(B)ₚⱼ, in float64, with Σₚ |op(A)ᵢₚ op(B)ₚⱼ|.
let private tripleLoop (p: Product) (opA: int -> int -> float) (opB: int -> int -> float) =
    Array.init (p.M * p.N) (fun idx ->
        let i, j = idx % p.M, idx / p.M
        let mutable sum, magnitude = 0.0, 0.0
        for q in 0 .. p.K - 1 do
            sum <- sum + opA i q * opB q j
            magnitude <- magnitude + Math.Abs(opA i q * opB q j)
        sum, magnitude)

/// Each entry of `actual` within `bound magnitude` of the expected sum, as a labelled property.
let private entriesWithin (what: string) (expected: (float * float)[]) (bound: float -> float) (actual: float[]) : Property =
    if expected.Length <> actual.Length then false |> Prop.label $"{what}: {actual.Length} entries, expected {expected.Length}"
    else
        match Array.tryFindIndex id (Array.map2 (fun (e: float, s: float) (a: float) -> not (Math.Abs(a - e) <= bound s)) expected actual) with
        | None -> true |> Prop.ofTestable
        | Some k -> false |> Prop.label $"{what}: entry {k} is {actual.[k]:R}, expected {fst expected.[k]:R} ± {bound (snd expected.[k]):R}"

/// The three products of the library against the triple loop. On small integers every partial
/// sum is an integer below 8·8·40 = 2560 < 2²⁴, exact in float32 and float, so the products must
/// be exact whatever the order of summation. On reals the library's entry and the float64 loop's
/// are each within γₖ₊₁·Σ|terms| of the exact sum (γₖ for the sum, one more u for Σ|terms|
/// itself being rounded), in their own unit roundoffs.
let private productsAgree<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (p: Product) (provider: Provider) =
    let values (xs: float[]) : 'T[] = Array.map Real.ofFloat<'T> xs
    // The operands as 'T and back: the float64 loop then reads exactly what the library reads.
    let p = { p with A = values p.A |> Array.map Real.toFloat; B = values p.B |> Array.map Real.toFloat }
    let matrix rows cols (xs: float[]) : Matrix<'T> = Matrix.ofColumnMajor rows cols (values xs)
    let bound (s: float) =
        if p.Integers then 0.0 else (gamma (unitRoundoff<'T> ()) (p.K + 1) + gamma (unitRoundoff<float> ()) (p.K + 1)) * s
    let check what transA transB (c: Matrix<'T>) =
        let opA, opB = operands p transA transB
        ((c.Rows, c.Cols) = (p.M, p.N) |> Prop.label $"{what}: shape {shapeOf c.Rows c.Cols}")
        .&. entriesWithin what (tripleLoop p opA opB) bound (c.ToArray() |> Array.map Real.toFloat)
    provider.Run(fun () ->
        check "a·b" false false (Matrix.multiply (matrix p.M p.K p.A) (matrix p.K p.N p.B))
        .&. check "aᵀ·b" true false (Matrix.multiplyTransposeLeft (matrix p.K p.M p.A) (matrix p.K p.N p.B))
        .&. check "a·bᵀ" false true (Matrix.multiplyTransposeRight (matrix p.M p.K p.A) (matrix p.N p.K p.B)))
    |> Prop.label $"{provider}, {Real.typeName<'T> ()}, {p.M}×{p.K} by {p.K}×{p.N}"

/// multiplyTransposeLeft a b against multiply (transpose a) b, and the right-hand one likewise:
/// two computations of the same products, each within γₖ·Σ|terms| of the exact sums, so they
/// differ by at most 2γₖ₊₁·Σ|terms| (the extra u covers Σ|terms| computed in float64).
let private transposesAgree<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (p: Product) (provider: Provider) =
    let values (xs: float[]) : 'T[] = Array.map Real.ofFloat<'T> xs
    let p = { p with A = values p.A |> Array.map Real.toFloat; B = values p.B |> Array.map Real.toFloat }
    let matrix rows cols (xs: float[]) : Matrix<'T> = Matrix.ofColumnMajor rows cols (values xs)
    let asFloats (c: Matrix<'T>) = c.ToArray() |> Array.map Real.toFloat
    let bound (s: float) = 2.0 * gamma (unitRoundoff<'T> ()) (p.K + 1) * s
    let compare what transA transB (viaTranspose: Matrix<'T>) (direct: Matrix<'T>) =
        let opA, opB = operands p transA transB
        let magnitudes = tripleLoop p opA opB |> Array.map snd
        entriesWithin what (Array.zip (asFloats viaTranspose) magnitudes) bound (asFloats direct)
    provider.Run(fun () ->
        let a, b = matrix p.K p.M p.A, matrix p.K p.N p.B
        let a', b' = matrix p.M p.K p.A, matrix p.N p.K p.B
        compare "aᵀ·b" true false (Matrix.multiply (Matrix.transpose a) b) (Matrix.multiplyTransposeLeft a b)
        .&. compare "a·bᵀ" false true (Matrix.multiply a' (Matrix.transpose b')) (Matrix.multiplyTransposeRight a' b'))
    |> Prop.label $"{provider}, {Real.typeName<'T> ()}"

[<Properties(Arbitrary = [| typeof<MatrixArbitraries> |], MaxTest = 100)>]
module Products =

    [<Property>]
    let ``the three products equal the triple loop: exactly on small integers, to γₖ on reals`` (p: Product) (provider: Provider) =
        if p.Float32 then productsAgree<float32> p provider else productsAgree<float> p provider

    [<Property>]
    let ``products with a transposed operand equal transposing then multiplying, to rounding`` (p: Product) (provider: Provider) =
        if p.Float32 then transposesAgree<float32> p provider else transposesAgree<float> p provider

    [<Property>]
    let ``products of mismatched inner dimensions are refused, naming both shapes`` (b: BadProduct) =
        let z r c = Matrix.zeros<float> r c
        let message f = (refused<ArgumentException> f).Message
        let ab = message (fun () -> box (Matrix.multiply (z b.M b.K) (z b.K' b.N)))
        let atb = message (fun () -> box (Matrix.multiplyTransposeLeft (z b.K b.M) (z b.K' b.N)))
        let abt = message (fun () -> box (Matrix.multiplyTransposeRight (z b.M b.K) (z b.N b.K')))
        mentions ab [ shapeOf b.M b.K; shapeOf b.K' b.N ]
        .&. mentions atb [ $"({shapeOf b.K b.M})ᵀ"; shapeOf b.K' b.N ]
        .&. mentions abt [ shapeOf b.M b.K; $"({shapeOf b.N b.K'})ᵀ" ]

/// The element-wise operations against scalar loops. Each entry of a + b, a − b, a ⊙ b and α·a is
/// one correctly rounded IEEE operation, so the bits must match exactly (overflow to ±∞, signed
/// zeros and subnormals included).
let private elementwiseAgree<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (e: Entries) (alpha: float) (shuffle: int) =
    let a: Matrix<'T> = e.Matrix<'T> ()
    // b: the same entries in another order, so that each pair (aᵢ, bᵢ) is varied.
    let n = e.Values.Length
    let bValues = Array.init n (fun k -> e.Values.[(k + shuffle) % Math.Max(n, 1)])
    let b: Matrix<'T> = { e with Values = bValues }.Matrix<'T> ()
    let av, bv = a.ToArray(), b.ToArray()
    let alpha: 'T = Real.ofFloat alpha
    // In float32 the largest doubles are ±∞, so ∞ − ∞ and 0·∞ give NaN: any NaN matches a NaN.
    let sameValue (x: 'T) (y: 'T) = bits (Real.toFloat x) = bits (Real.toFloat y) || 'T.IsNaN x && 'T.IsNaN y
    let same what (expected: 'T[]) (m: Matrix<'T>) =
        ((m.Rows, m.Cols) = (e.Rows, e.Cols) && Array.forall2 sameValue expected (m.ToArray()))
        |> Prop.label $"{Real.typeName<'T> ()} {what}: {m.ToArray()}, expected {expected}"
    same "a + b" (Array.map2 (fun x y -> 'T.op_Addition (x, y)) av bv) (Matrix.add a b)
    .&. same "a − b" (Array.map2 (fun x y -> 'T.op_Subtraction (x, y)) av bv) (Matrix.subtract a b)
    .&. same "a ⊙ b" (Array.map2 (fun x y -> 'T.op_Multiply (x, y)) av bv) (Matrix.hadamard a b)
    .&. same "α·a" (Array.map (fun x -> 'T.op_Multiply (alpha, x)) av) (Matrix.scale alpha a)
    .&. same "map" (Array.map (fun x -> 'T.op_Multiply (x, x)) av) (Matrix.map (fun x -> 'T.op_Multiply (x, x)) a)
    .&. same "map2" (Array.map2 (fun x y -> 'T.Max(x, y)) av bv) (Matrix.map2 (fun x y -> 'T.Max(x, y)) a b)

/// dot and sumColumns against float64 loops. On integer entries every partial sum is exact, so
/// the results must be exact; on reals each side is within γₙ₊₁·Σ|terms| of the exact sum (n
/// terms, and Σ|terms| itself rounded), in its own unit roundoff, plus, because the entries include
/// subnormals, an absolute error of at most half the smallest subnormal for each of the n products
/// that underflows (Higham §2.1; counted here as a whole smallest subnormal per term and side).
let private sumsAgree<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (e: Entries) (integers: bool) =
    let values = if integers then e.Values |> Array.map (fun v -> Math.Round(Math.Clamp(v, -8.0, 8.0))) else e.Values
    let a: Matrix<'T> = { e with Values = values }.Matrix<'T> ()
    let b: Matrix<'T> = { e with Values = Array.rev values }.Matrix<'T> ()
    let av: float[] = a.ToArray() |> Array.map Real.toFloat
    let bv: float[] = b.ToArray() |> Array.map Real.toFloat
    let bound (n: int) (s: float) =
        if integers then 0.0
        else (gamma (unitRoundoff<'T> ()) (n + 1) + gamma (unitRoundoff<float> ()) (n + 1)) * s + float n * (smallestSubnormal<'T> () + Double.Epsilon)
    let dotExpected = Array.fold2 (fun (sum: float, magnitude: float) (x: float) (y: float) -> sum + x * y, magnitude + Math.Abs(x * y)) (0.0, 0.0) av bv
    let rowSums =
        Array.init e.Rows (fun i ->
            let row = [| for j in 0 .. e.Cols - 1 -> av.[i + j * e.Rows] |]
            Array.sum row, Array.sumBy (fun (v: float) -> Math.Abs v) row)
    let sums = Matrix.sumColumns a
    entriesWithin $"{Real.typeName<'T> ()} dot" [| dotExpected |] (bound av.Length) [| Real.toFloat (Matrix.dot a b) |]
    .&. ((sums.Rows, sums.Cols) = (e.Rows, 1) |> Prop.label "sumColumns is a column")
    .&. entriesWithin $"{Real.typeName<'T> ()} sumColumns" rowSums (bound e.Cols) (sums.ToArray() |> Array.map Real.toFloat)

[<Properties(Arbitrary = [| typeof<MatrixArbitraries> |], MaxTest = 100)>]
module EntryByEntry =

    [<Property>]
    let ``add, subtract, hadamard, scale, map and map2 equal their scalar loops bit for bit`` (e: Entries) (k: int) (shuffle: NonNegativeInt) =
        let alpha = [| 0.5; -3.0; 0.1; 0.0; -0.0; 1e300; 7.25e-5 |].[Math.Abs(k % 7)]
        elementwiseAgree<float> e alpha shuffle.Get .&. elementwiseAgree<float32> e alpha shuffle.Get

    [<Property>]
    let ``dot and sumColumns equal their sums: exactly on integers, to γₙ on reals`` (e: Entries) =
        // Entries without MaxValue (whose sums overflow) for a finite comparison: the reals only.
        let e = { e with Values = e.Values |> Array.map (fun v -> if Math.Abs v > 1e10 then 1.0 else v) }
        sumsAgree<float> e true .&. sumsAgree<float> e false .&. sumsAgree<float32> e true .&. sumsAgree<float32> e false

    [<Property>]
    let ``element-wise operations on different shapes are refused, naming both shapes`` (m: Mismatch) =
        let a, b = m.Left.Matrix<float> (), m.Right.Matrix<float> ()
        let shapes = [ shapeOf m.Left.Rows m.Left.Cols; shapeOf m.Right.Rows m.Right.Cols ]
        [ "add", (fun () -> box (Matrix.add a b))
          "subtract", (fun () -> box (Matrix.subtract a b))
          "hadamard", (fun () -> box (Matrix.hadamard a b))
          "dot", (fun () -> box (Matrix.dot a b))
          "map2", (fun () -> box (Matrix.map2 (fun x _ -> x) a b)) ]
        |> List.map (fun (what, f) -> mentions (refused<ArgumentException> f).Message (what :: shapes))
        |> List.reduce (.&.)

/// tryFindNonFinite against a scan of the entries in column-major order (column by column, each
/// from its first row): the first entry that is NaN or ±∞, with its position, or None.
let private findsFirst<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (p: Planted) =
    let values = Array.copy p.Finite.Values
    for k, v in p.Plants do values.[k] <- v
    let m: Matrix<'T> = { p.Finite with Values = values }.Matrix<'T> ()
    let expected =
        seq { for j in 0 .. m.Cols - 1 do for i in 0 .. m.Rows - 1 -> i, j }
        |> Seq.tryFind (fun (i, j) -> not (Double.IsFinite values.[i + j * m.Rows]))
        |> Option.map (fun (i, j) -> i, j, values.[i + j * m.Rows])
    let actual = Matrix.tryFindNonFinite m |> Option.map (fun (i, j, v) -> i, j, Real.toFloat v)
    match expected, actual with
    | None, None -> true |> Prop.ofTestable
    | Some(i, j, v), Some(i', j', v') when i = i' && j = j' && (v = v' || Double.IsNaN v && Double.IsNaN v') -> true |> Prop.ofTestable
    | _ -> false |> Prop.label $"{Real.typeName<'T> ()}: expected {expected}, got {actual}"

[<Properties(Arbitrary = [| typeof<MatrixArbitraries> |], MaxTest = 200)>]
module SpecialValues =

    [<Property>]
    let ``tryFindNonFinite finds the first NaN or infinity in column-major order, and nothing in a finite matrix`` (p: Planted) =
        if p.Float32 then
            // ±MaxValue of float64 rounds to ±∞ in float32: keep the float32 matrix's finite part finite.
            let clamp v = if Double.IsFinite v then Math.Clamp(v, float Single.MinValue, float Single.MaxValue) else v
            findsFirst<float32> { p with Finite = { p.Finite with Values = Array.map clamp p.Finite.Values } }
        else findsFirst<float> p

[<Properties(Arbitrary = [| typeof<MatrixArbitraries> |], MaxTest = 200)>]
module Conversion =

    [<Property>]
    let ``convert narrows each entry to the nearest float32 and widens float32 exactly`` (d: Doubles) =
        let m = Matrix.ofRows [ d.Numbers ]
        let narrow: Matrix<float32> = Matrix.convert m
        let wide: Matrix<float> = Matrix.convert narrow
        // float32 x is the IEEE conversion: to nearest, ties to even, overflowing to ±∞.
        let nearest = d.Numbers |> Array.map (fun v -> BitConverter.SingleToInt32Bits(float32 v))
        ((narrow.ToArray() |> Array.map BitConverter.SingleToInt32Bits) = nearest |> Prop.label "narrowing")
        .&. ((wide.ToArray() |> Array.map bits) = (narrow.ToArray() |> Array.map (fun v -> bits (float v))) |> Prop.label "widening")
        .&. ((snapshot (Matrix.convert<float, float32> wide) = snapshot narrow) |> Prop.label "float32 → float → float32")
        .&. ((narrow.Rows, narrow.Cols) = (m.Rows, m.Cols) |> Prop.label "shape")

/// Snapshots of every argument before and after every function of Matrix.
[<Properties(Arbitrary = [| typeof<MatrixArbitraries> |], MaxTest = 100)>]
module Immutability =

    [<Property>]
    let ``no function changes its arguments`` (e: Entries) (p: Product) (provider: Provider) =
        let a = e.Matrix<float> ()
        let b = Matrix.map (fun v -> v * 0.5 + 1.0) a
        let x, y = Matrix.ofColumnMajor p.M p.K p.A, Matrix.ofColumnMajor p.K p.N p.B
        let xt, yt = Matrix.ofColumnMajor p.K p.M p.A, Matrix.ofColumnMajor p.N p.K p.B
        let all = [ a; b; x; y; xt; yt ]
        let before = all |> List.map snapshot
        let run (f: unit -> obj) = f () |> ignore
        provider.Run(fun () ->
            run (fun () -> box (Matrix.add a b)); run (fun () -> box (Matrix.subtract a b)); run (fun () -> box (Matrix.hadamard a b))
            run (fun () -> box (Matrix.scale 3.0 a)); run (fun () -> box (Matrix.dot a b)); run (fun () -> box (Matrix.sumColumns a))
            run (fun () -> box (Matrix.map (fun v -> -v) a)); run (fun () -> box (Matrix.map2 (+) a b)); run (fun () -> box (Matrix.transpose a))
            run (fun () -> box (Matrix.tryFindNonFinite a)); run (fun () -> box (Matrix.convert<float, float32> a)); run (fun () -> box (Matrix.toArray2D a))
            run (fun () -> box (Matrix.toColumns a)); run (fun () -> box (Matrix.sliceColumns 0 a.Cols a))
            run (fun () -> box (Matrix.selectColumns (Array.init a.Cols (fun j -> a.Cols - 1 - j)) a))
            run (fun () -> box (Matrix.multiply x y)); run (fun () -> box (Matrix.multiplyTransposeLeft xt y)); run (fun () -> box (Matrix.multiplyTransposeRight x yt)))
        (all |> List.map snapshot) = before

    [<Property>]
    let ``a matrix owns its entries: arrays given to it or taken from it can change without it`` (e: Entries) =
        let values = Array.copy e.Values
        let columns = Array.init e.Cols (fun j -> Array.init e.Rows (fun i -> e.Values.[i + j * e.Rows]))
        let rows = Array.init e.Rows (fun i -> Array.init e.Cols (fun j -> e.Values.[i + j * e.Rows]))
        let grid = Array2D.init e.Rows e.Cols (fun i j -> e.Values.[i + j * e.Rows])
        let made = [ Matrix.ofColumnMajor e.Rows e.Cols values; Matrix.ofColumns columns; Matrix.ofRows rows; Matrix.ofArray2D grid; Matrix.ofVector values ]
        let before = made |> List.map snapshot
        // Write over every array the matrices were made from, and every array they hand out.
        let spoil (xs: float[]) = for k in 0 .. xs.Length - 1 do xs.[k] <- 12345.0
        spoil values
        Array.iter spoil columns
        Array.iter spoil rows
        for i in 0 .. e.Rows - 1 do for j in 0 .. e.Cols - 1 do grid.[i, j] <- 12345.0
        for m in made do
            spoil (m.ToArray())
            Array.iter spoil (Matrix.toColumns m)
            for i in 0 .. m.Rows - 1 do spoil (Matrix.row i m)
            let g = Matrix.toArray2D m
            for i in 0 .. m.Rows - 1 do for j in 0 .. m.Cols - 1 do g.[i, j] <- 12345.0
        (made |> List.map snapshot) = before
