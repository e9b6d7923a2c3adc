namespace FunctionalBackprop.Core

open System
open System.Numerics
open System.Numerics.Tensors
open FunctionalBackprop.Core.GenericArithmetic

/// A dense real matrix stored column by column (column-major, as BLAS and MathNet store it).
///
/// Immutable: nothing in the library changes a matrix after making it, and its array is never
/// handed out (AsSpan gives a read-only view, ToArray a copy). When a matrix holds a batch, each
/// column is one example, as in Nielsen's notation where an input x is a column vector.
type Matrix<'T when 'T :> IFloatingPointIeee754<'T>> =
    internal { rows: int; cols: int; values: 'T[] }

    /// Number of rows.
    member m.Rows = m.rows

    /// Number of columns (examples, when the matrix is a batch).
    member m.Cols = m.cols

    /// Entry (i, j), both zero-based.
    member m.Item
        with get (i: int, j: int) : 'T =
            if uint i >= uint m.rows || uint j >= uint m.cols then
                raise (ArgumentOutOfRangeException("(i, j)", $"Entry ({i}, {j}) is outside a {m.rows}×{m.cols} matrix."))
            m.values.[i + j * m.rows]

    /// A read-only view of the entries in column-major order, without copying.
    member m.AsSpan() : ReadOnlySpan<'T> = ReadOnlySpan m.values

    /// A copy of the entries in column-major order.
    member m.ToArray() : 'T[] = Array.copy m.values

    /// "Matrix 30×784 (float64)".
    override m.ToString() = $"Matrix {m.rows}×{m.cols} ({Real.typeName<'T> ()})"

/// Functions over matrices. Every function returns a new matrix and leaves its arguments alone.
module Matrix =

    /// Wraps an array the caller gives up (no copy). For the library's own fresh arrays only.
    let internal wrap (rows: int) (cols: int) (values: 'T[]) : Matrix<'T> =
        { rows = rows; cols = cols; values = values }

    /// A copy with its own array (for the library's private working copies).
    let internal copy (m: Matrix<'T>) : Matrix<'T> = wrap m.rows m.cols (Array.copy m.values)

    /// A new array for a result that the caller overwrites entirely before anyone reads it: left
    /// uninitialised (GC.AllocateUninitializedArray), which spares large outputs, such as a
    /// layer's ∂C/∂w, a pass of zeroing.
    let internal uninitialized<'T when 'T :> IFloatingPointIeee754<'T>> (length: int) : 'T[] =
        GC.AllocateUninitializedArray<'T> length

    let private checkDimensions (rows: int) (cols: int) =
        if rows < 0 then raise (ArgumentOutOfRangeException("rows", rows, "A matrix cannot have a negative number of rows."))
        if cols < 0 then raise (ArgumentOutOfRangeException("cols", cols, "A matrix cannot have a negative number of columns."))

    /// "3×4", for messages.
    let shape (m: Matrix<'T>) : string = $"{m.rows}×{m.cols}"

    /// The rows×cols matrix of zeros.
    let zeros<'T when 'T :> IFloatingPointIeee754<'T>> (rows: int) (cols: int) : Matrix<'T> =
        checkDimensions rows cols
        wrap rows cols (Array.zeroCreate (rows * cols))

    /// A matrix from its entries in column-major order (the array is copied).
    let ofColumnMajor (rows: int) (cols: int) (values: 'T[]) : Matrix<'T> =
        checkDimensions rows cols
        if isNull values then nullArg "values"
        if values.Length <> rows * cols then
            invalidArg "values" $"A {rows}×{cols} matrix needs {rows * cols} values, got {values.Length}."
        wrap rows cols (Array.copy values)

    /// The matrix whose entry (i, j) is f i j.
    let init (rows: int) (cols: int) (f: int -> int -> 'T) : Matrix<'T> =
        checkDimensions rows cols
        let values = Array.zeroCreate (rows * cols)
        for j in 0 .. cols - 1 do
            for i in 0 .. rows - 1 do
                values.[i + j * rows] <- f i j
        wrap rows cols values

    /// A matrix from its columns (in a batch, one column per example). All columns must have the
    /// same length.
    let ofColumns (columns: seq<'T[]>) : Matrix<'T> =
        if isNull columns then nullArg "columns"
        let columns = Array.ofSeq columns
        let rows = if columns.Length = 0 then 0 else columns.[0].Length
        columns |> Array.iteri (fun j c ->
            if isNull c then invalidArg "columns" $"Column {j} is null."
            if c.Length <> rows then
                invalidArg "columns" $"Column {j} has {c.Length} entries but column 0 has {rows}: all columns must have the same length.")
        wrap rows columns.Length (Array.concat columns)

    /// A matrix from its rows. All rows must have the same length.
    let ofRows (rows: seq<'T[]>) : Matrix<'T> =
        if isNull rows then nullArg "rows"
        let rows = Array.ofSeq rows
        let cols = if rows.Length = 0 then 0 else rows.[0].Length
        rows |> Array.iteri (fun i r ->
            if isNull r then invalidArg "rows" $"Row {i} is null."
            if r.Length <> cols then
                invalidArg "rows" $"Row {i} has {r.Length} entries but row 0 has {cols}: all rows must have the same length.")
        init rows.Length cols (fun i j -> rows.[i].[j])

    /// A matrix from a .NET two-dimensional array.
    let ofArray2D (a: 'T[,]) : Matrix<'T> =
        if isNull a then nullArg "a"
        init (Array2D.length1 a) (Array2D.length2 a) (fun i j -> a.[i, j])

    /// A batch from a .NET two-dimensional array of examples as rows ([example, feature]):
    /// its transpose, one example per column, copied once.
    let ofRows2D (a: 'T[,]) : Matrix<'T> =
        if isNull a then nullArg "a"
        init (Array2D.length2 a) (Array2D.length1 a) (fun i j -> a.[j, i])

    /// A column vector (n×1) from its entries.
    let ofVector (v: 'T[]) : Matrix<'T> =
        if isNull v then nullArg "v"
        ofColumnMajor v.Length 1 v

    /// The matrix as a .NET two-dimensional array.
    let toArray2D (m: Matrix<'T>) : 'T[,] = Array2D.init m.rows m.cols (fun i j -> m.values.[i + j * m.rows])

    /// A batch as a .NET two-dimensional array of examples as rows ([example, row of m]): its
    /// transpose, copied once.
    let toRows2D (m: Matrix<'T>) : 'T[,] = Array2D.init m.cols m.rows (fun j i -> m.values.[i + j * m.rows])

    /// Column j (in a batch, example j) as a new array.
    let column (j: int) (m: Matrix<'T>) : 'T[] =
        if uint j >= uint m.cols then
            raise (ArgumentOutOfRangeException("j", j, $"Column {j} is outside a {shape m} matrix."))
        Array.sub m.values (j * m.rows) m.rows

    /// Every column as a new array.
    let toColumns (m: Matrix<'T>) : 'T[][] = Array.init m.cols (fun j -> column j m)

    /// Row i as a new array.
    let row (i: int) (m: Matrix<'T>) : 'T[] =
        if uint i >= uint m.rows then
            raise (ArgumentOutOfRangeException("i", i, $"Row {i} is outside a {shape m} matrix."))
        Array.init m.cols (fun j -> m.values.[i + j * m.rows])

    /// The columns at the given indices, in that order (a mini-batch drawn from a data set).
    let selectColumns (indices: int[]) (m: Matrix<'T>) : Matrix<'T> =
        if isNull indices then nullArg "indices"
        let values = uninitialized (m.rows * indices.Length)
        indices |> Array.iteri (fun k j ->
            if uint j >= uint m.cols then
                raise (ArgumentOutOfRangeException("indices", j, $"Column {j} is outside a {shape m} matrix."))
            Array.Copy(m.values, j * m.rows, values, k * m.rows, m.rows))
        wrap m.rows indices.Length values

    /// Columns start … start+count−1.
    let sliceColumns (start: int) (count: int) (m: Matrix<'T>) : Matrix<'T> =
        if start < 0 || count < 0 || start + count > m.cols then
            raise (ArgumentOutOfRangeException("start", $"Columns {start}…{start + count - 1} are outside a {shape m} matrix."))
        wrap m.rows count (Array.sub m.values (start * m.rows) (m.rows * count))

    let internal checkSameShape (what: string) (a: Matrix<'T>) (b: Matrix<'T>) =
        if a.rows <> b.rows || a.cols <> b.cols then
            invalidArg what $"{what}: the shapes differ, {shape a} and {shape b}."

    /// Applies f to every entry.
    let map (f: 'T -> 'T) (m: Matrix<'T>) : Matrix<'T> = wrap m.rows m.cols (Array.map f m.values)

    /// Applies f to the entries of a and b at the same position.
    let map2 (f: 'T -> 'T -> 'T) (a: Matrix<'T>) (b: Matrix<'T>) : Matrix<'T> =
        checkSameShape "map2" a b
        wrap a.rows a.cols (Array.map2 f a.values b.values)

    /// a + b.
    let add (a: Matrix<'T>) (b: Matrix<'T>) : Matrix<'T> =
        checkSameShape "add" a b
        let out = uninitialized a.values.Length
        TensorPrimitives.Add(ReadOnlySpan a.values, ReadOnlySpan b.values, Span out)
        wrap a.rows a.cols out

    /// a − b.
    let subtract (a: Matrix<'T>) (b: Matrix<'T>) : Matrix<'T> =
        checkSameShape "subtract" a b
        let out = uninitialized a.values.Length
        TensorPrimitives.Subtract(ReadOnlySpan a.values, ReadOnlySpan b.values, Span out)
        wrap a.rows a.cols out

    /// The Hadamard (element-wise) product a ⊙ b, (a ⊙ b)ᵢⱼ = aᵢⱼ bᵢⱼ (Nielsen's eq. 28).
    let hadamard (a: Matrix<'T>) (b: Matrix<'T>) : Matrix<'T> =
        checkSameShape "hadamard" a b
        let out = uninitialized a.values.Length
        TensorPrimitives.Multiply(ReadOnlySpan a.values, ReadOnlySpan b.values, Span out)
        wrap a.rows a.cols out

    /// α·m.
    let scale (alpha: 'T) (m: Matrix<'T>) : Matrix<'T> =
        let out = uninitialized m.values.Length
        TensorPrimitives.Multiply(ReadOnlySpan m.values, alpha, Span out)
        wrap m.rows m.cols out

    /// The sum of all entries aᵢⱼ bᵢⱼ (the Frobenius inner product).
    let dot (a: Matrix<'T>) (b: Matrix<'T>) : 'T =
        checkSameShape "dot" a b
        TensorPrimitives.Dot(ReadOnlySpan a.values, ReadOnlySpan b.values)

    /// The transpose mᵀ.
    let transpose (m: Matrix<'T>) : Matrix<'T> = init m.cols m.rows (fun i j -> m.values.[j + i * m.rows])

    /// Row sums Σⱼ mᵢⱼ into out (length m.Rows), column by column from zero.
    [<HotPath>]
    let internal sumColumnsInto (m: Matrix<'T>) (out: 'T[]) : unit =
        Array.Clear(out, 0, m.rows)
        let span = Span<'T>(out, 0, m.rows)
        for j in 0 .. m.cols - 1 do
            Elementwise.add (ReadOnlySpan<'T>(m.values, j * m.rows, m.rows), Span<'T>.op_Implicit span, span)

    /// The column vector of row sums, Σⱼ mᵢⱼ (over a batch: the sum over examples).
    let sumColumns (m: Matrix<'T>) : Matrix<'T> =
        let out = uninitialized m.rows
        sumColumnsInto m out
        wrap m.rows 1 out

    /// The position and value of the first entry that is NaN or infinite, if any. The common
    /// case, every entry finite, is one vectorised pass (Elementwise.allFinite).
    [<HotPath>]
    let tryFindNonFinite (m: Matrix<'T>) : (int * int * 'T) option =
        if Elementwise.allFinite (ReadOnlySpan m.values) then None
        else
            let k = Array.FindIndex(m.values, fun x -> not ('T.IsFinite(x)))
            Some(k % m.rows, k / m.rows, m.values.[k])

    /// The same matrix in another real type (float ↔ float32).
    let convert<'T, 'U when 'T :> IFloatingPointIeee754<'T> and 'U :> IFloatingPointIeee754<'U>> (m: Matrix<'T>) : Matrix<'U> =
        wrap m.rows m.cols (Array.map (fun x -> 'U.CreateTruncating x) m.values)

    /// op(a)·op(b) through the GEMM seam, where op transposes when asked.
    let private product (transA: bool) (transB: bool) (a: Matrix<'T>) (b: Matrix<'T>) : Matrix<'T> =
        let m, k = if transA then a.cols, a.rows else a.rows, a.cols
        let k', n = if transB then b.cols, b.rows else b.rows, b.cols
        if k <> k' then
            let name (t: bool) (x: Matrix<'T>) = if t then $"({shape x})ᵀ" else shape x
            invalidArg "b" $"Cannot multiply {name transA a} by {name transB b}: inner dimensions {k} and {k'} differ."
        let c = uninitialized (m * n)
        Gemm.run transA transB m n k 'T.One a.values b.values 'T.Zero c
        wrap m n c

    /// The product a·b.
    let multiply (a: Matrix<'T>) (b: Matrix<'T>) : Matrix<'T> = product false false a b

    /// The product aᵀ·b (without forming aᵀ).
    let multiplyTransposeLeft (a: Matrix<'T>) (b: Matrix<'T>) : Matrix<'T> = product true false a b

    /// The product a·bᵀ (without forming bᵀ).
    let multiplyTransposeRight (a: Matrix<'T>) (b: Matrix<'T>) : Matrix<'T> = product false true a b
