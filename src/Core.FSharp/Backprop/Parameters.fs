namespace FunctionalBackprop.Core

open System
open System.Numerics
open System.Numerics.Tensors

/// The position of one parameter: entry (Row, Column) of tensor Tensor (from 0, in its layer's
/// order) of layer Layer (from 1), whose symbol is Symbol ("w", "b").
type ParameterIndex =
    { /// The layer, from 1.
      Layer: int
      /// The tensor within the layer, from 0.
      Tensor: int
      /// The tensor's symbol.
      Symbol: string
      /// The row, from 0.
      Row: int
      /// The column, from 0.
      Column: int }

    // Code spans: the API site's Markdown would take a bracket then a parenthesis for a link.
    /// <summary>The index as text: <c>w[2]</c><c>(3, 5)</c> for entry (3, 5) of layer 2's w.</summary>
    override p.ToString() = $"{p.Symbol}[{p.Layer}]({p.Row}, {p.Column})"

/// Per-thread scratch for the scaled entries of a norm, reused so that norms allocate nothing.
type internal ScaledScratch<'T>() =
    [<ThreadStatic; DefaultValue>]
    static val mutable private buffer: 'T[]

    /// An array of at least n entries.
    static member Get(n: int) : 'T[] =
        if isNull ScaledScratch<'T>.buffer || ScaledScratch<'T>.buffer.Length < n then
            ScaledScratch<'T>.buffer <- Array.zeroCreate n
        ScaledScratch<'T>.buffer

/// A network's parameters taken together, as one vector: the one place where parameter-shaped
/// arrays (a network's tensors, a gradient's, an optimizer's slots) are walked, always in the
/// order of indices: layer by layer, each layer's tensors in its order (a dense layer's weights
/// column by column, then its biases). Nothing here asks what kind a layer is.
module Parameters =

    /// Every parameter tensor's values, in order (the network's own arrays).
    let internal arrays (network: Network<'T>) : 'T[][] = network.arrays

    /// What each tensor is, in order.
    let specs (network: Network<'T>) : ParameterSpec list = List.ofArray network.specs

    /// Runs f on each array of a parameter-shaped value, with its position.
    let inline internal iter ([<InlineIfLambda>] f: int -> 'T[] -> unit) (a: 'T[][]) : unit =
        for k in 0 .. a.Length - 1 do
            f k a.[k]

    /// Runs f on the arrays at each position of two parameter-shaped values.
    let inline internal iter2 ([<InlineIfLambda>] f: 'T[] -> 'T[] -> unit) (a: 'T[][]) (b: 'T[][]) : unit =
        for k in 0 .. a.Length - 1 do
            f a.[k] b.[k]

    /// Runs f on the arrays at each position of three parameter-shaped values.
    let inline internal iter3 ([<InlineIfLambda>] f: 'T[] -> 'T[] -> 'T[] -> unit) (a: 'T[][]) (b: 'T[][]) (c: 'T[][]) : unit =
        for k in 0 .. a.Length - 1 do
            f a.[k] b.[k] c.[k]

    /// target ← source, array by array.
    let internal copyInto (source: 'T[][]) (target: 'T[][]) : unit =
        iter2 (fun s t -> Array.Copy(s, t, s.Length)) source target

    /// Every parameter, in one new array.
    let toArray (network: Network<'T>) : 'T[] = Array.concat network.arrays

    /// The same network over copies of its parameter and state arrays: a private working copy
    /// that can be written without touching the original.
    let internal copy (network: Network<'T>) : Network<'T> =
        network |> Network.mapLayers (fun _ l -> Layer.withTensors (Layer.parameters l |> List.map Matrix.copy) (Layer.state l |> List.map Matrix.copy) l)

    /// target ← w + α·Δ, entry by entry, where w is the network's parameters, Δ parameter-shaped
    /// arrays (a gradient's, an optimizer's change) and target a network of the same shapes (the
    /// network itself, or a private copy): the one parameter update of every optimizer, line
    /// search and Levenberg–Marquardt step. A product, then a sum, each rounded
    /// (Elementwise.scaleAdd, never a fused multiply-add), so α = 1 gives the bits of w + Δ.
    [<HotPath>]
    let internal addScaledInto (alpha: 'T) (delta: 'T[][]) (network: Network<'T>) (target: Network<'T>) : unit =
        // w ← w + α·Δ
        iter3 (fun d w t -> Elementwise.scaleAdd (ReadOnlySpan d, alpha, ReadOnlySpan w, Span t)) delta network.arrays target.arrays

    /// The network moved to w + α·Δ, in new arrays (the state is shared). Pure.
    let internal addScaled (alpha: 'T) (delta: 'T[][]) (network: Network<'T>) : Network<'T> =
        let fresh (m: Matrix<'T>) = Matrix.wrap m.rows m.cols (Matrix.uninitialized m.values.Length)
        let target = network |> Network.mapLayers (fun _ l -> Layer.withTensors (Layer.parameters l |> List.map fresh) (Layer.state l) l)
        addScaledInto alpha delta network target
        target

    /// True when every entry of parameter-shaped arrays is finite.
    let internal allFinite<'T when 'T :> IFloatingPointIeee754<'T>> (arrays: 'T[][]) : bool = arrays |> Array.forall (Array.forall (fun v -> 'T.IsFinite(v)))

    /// True when every parameter is finite.
    let internal isFinite (network: Network<'T>) : bool = allFinite network.arrays

    /// m, or the largest magnitude of a's entries if larger.
    let private largestOf<'T when 'T :> IFloatingPointIeee754<'T>> (m: 'T) (a: 'T[]) : 'T =
        if a.Length = 0 then m else 'T.Max(m, TensorPrimitives.MaxMagnitude(ReadOnlySpan a) |> 'T.Abs)

    /// Σ (x/m)² over a's entries, the quotients in a per-thread scratch array (no allocation).
    let private scaledSquares (m: 'T) (a: 'T[]) : 'T =
        let scaled = Span<'T>(ScaledScratch<'T>.Get a.Length, 0, a.Length)
        TensorPrimitives.Divide(ReadOnlySpan a, m, scaled)
        TensorPrimitives.SumOfSquares(Span<'T>.op_Implicit scaled)

    /// The Euclidean norm of the vector whose entries are the arrays', √(Σ x²), computed as
    /// m·√(Σ (x/m)²) with m the largest magnitude, so that it neither overflows nor underflows
    /// for any finite entries. Allocates nothing.
    [<HotPath>]
    let internal normOf<'T when 'T :> IFloatingPointIeee754<'T>> (arrays: 'T[][]) : 'T =
        let mutable largest = 'T.Zero
        for a in arrays do
            largest <- largestOf largest a
        if 'T.IsZero(largest) || not ('T.IsFinite(largest)) then largest
        else
            let mutable total = 'T.Zero
            for a in arrays do
                total <- total + scaledSquares largest a
            largest * 'T.Sqrt(total)

    /// ‖w − v‖, the Euclidean distance between two networks' parameters (of the same shapes).
    let internal distance (w: Network<'T>) (v: Network<'T>) : 'T =
        Array.map2 (fun (a: 'T[]) (b: 'T[]) -> let d = Array.zeroCreate a.Length in TensorPrimitives.Subtract(ReadOnlySpan a, ReadOnlySpan b, Span d); d) w.arrays v.arrays
        |> normOf

    /// The place among layer i's tensors (i and the place from 0) of the one with that name
    /// ("weight", "bias"), if the layer has one.
    let tensorIndex (network: Network<'T>) (i: int) (name: string) : int option =
        network.specs
        |> Array.indexed
        |> Array.filter (fun (k, _) -> network.owners.[k] = i)
        |> Array.tryFindIndex (fun (_, p) -> p.Name = name)

    /// Every parameter's position, in order: layer by layer, each tensor column by column.
    let indices (network: Network<'T>) : ParameterIndex list =
        [ for k in 0 .. network.specs.Length - 1 do
              let p, layer = network.specs.[k], network.owners.[k]
              let first = network.owners |> Array.findIndex ((=) layer)
              for column in 0 .. p.Columns - 1 do
                  for row in 0 .. p.Rows - 1 ->
                      { Layer = layer + 1; Tensor = k - first; Symbol = p.Symbol; Row = row; Column = column } ]
