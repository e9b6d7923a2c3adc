namespace FunctionalBackprop.Core

open System
open System.Numerics
open System.Numerics.Tensors
open FunctionalBackprop.Core.GenericArithmetic

/// The gradient of the cost with respect to one layer's parameters: ∂C/∂wˡ and ∂C/∂bˡ, shaped
/// like the weights and biases.
type LayerGradient<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// ∂C/∂wˡ (nₒᵤₜ×nᵢₙ).
      dW: Matrix<'T>
      /// ∂C/∂bˡ (nₒᵤₜ×1).
      db: Matrix<'T> }

/// The gradient of the cost with respect to every parameter of a network, one record per layer,
/// input side first. Gradients form a vector space: see the Gradients module.
type Gradients<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// One gradient per layer, input side first.
      Layers: LayerGradient<'T> list }

/// The position of one parameter: a weight wˡⱼₖ or a bias bˡⱼ, with l counted from 1 and the
/// row j and column k from 0.
type ParameterIndex =
    /// wˡⱼₖ, the weight from input k into unit j of layer l.
    | Weight of layer: int * row: int * column: int
    /// bˡⱼ, the bias of unit j of layer l.
    | Bias of layer: int * row: int

    // Two code spans for the bias: the API site's Markdown would take a bracket then a parenthesis for a link.
    /// <summary>The index as text: <c>w[2](3, 5)</c> or <c>b[1]</c><c>(7)</c>.</summary>
    override p.ToString() =
        match p with
        | Weight(l, j, k) -> $"w[{l}]({j}, {k})"
        | Bias(l, j) -> $"b[{l}]({j})"

/// Per-thread scratch for the scaled entries of a norm, reused so that norms allocate nothing.
type internal ScaledScratch<'T>() =
    [<ThreadStatic; DefaultValue>]
    static val mutable private buffer: 'T[]

    /// An array of at least n entries.
    static member Get(n: int) : 'T[] =
        if isNull ScaledScratch<'T>.buffer || ScaledScratch<'T>.buffer.Length < n then
            ScaledScratch<'T>.buffer <- Array.zeroCreate n
        ScaledScratch<'T>.buffer

/// The vector-space operations on gradients (zero, add, scale, dot, norm, map), entry by entry.
module Gradients =

    let private checkCompatible (g: Gradients<'T>) (h: Gradients<'T>) =
        if g.Layers.Length <> h.Layers.Length then
            invalidArg "h" $"The gradients have {g.Layers.Length} and {h.Layers.Length} layers."
        List.iter2
            (fun (a: LayerGradient<'T>) (b: LayerGradient<'T>) ->
                Matrix.checkSameShape "dW" a.dW b.dW
                Matrix.checkSameShape "db" a.db b.db)
            g.Layers h.Layers

    /// The zero vector shaped like the network's parameters.
    let zero (network: Network<'T>) : Gradients<'T> =
        { Layers =
            network.Layers
            |> List.map (fun l -> { dW = Matrix.zeros l.OutputWidth l.InputWidth; db = Matrix.zeros l.OutputWidth 1 }) }

    /// Applies f to each layer's pair of matrices.
    let mapLayers (f: Matrix<'T> -> Matrix<'T>) (g: Gradients<'T>) : Gradients<'T> =
        { Layers = g.Layers |> List.map (fun l -> { dW = f l.dW; db = f l.db }) }

    /// Applies f to every entry.
    let map (f: 'T -> 'T) (g: Gradients<'T>) : Gradients<'T> = mapLayers (Matrix.map f) g

    /// Applies f to the entries of g and h at the same position.
    let map2 (f: 'T -> 'T -> 'T) (g: Gradients<'T>) (h: Gradients<'T>) : Gradients<'T> =
        checkCompatible g h
        { Layers =
            List.map2 (fun (a: LayerGradient<'T>) (b: LayerGradient<'T>) -> { dW = Matrix.map2 f a.dW b.dW; db = Matrix.map2 f a.db b.db })
                g.Layers h.Layers }

    /// g + h.
    let add (g: Gradients<'T>) (h: Gradients<'T>) : Gradients<'T> =
        checkCompatible g h
        { Layers = List.map2 (fun (a: LayerGradient<'T>) b -> { dW = Matrix.add a.dW b.dW; db = Matrix.add a.db b.db }) g.Layers h.Layers }

    /// g − h.
    let subtract (g: Gradients<'T>) (h: Gradients<'T>) : Gradients<'T> =
        checkCompatible g h
        { Layers = List.map2 (fun (a: LayerGradient<'T>) b -> { dW = Matrix.subtract a.dW b.dW; db = Matrix.subtract a.db b.db }) g.Layers h.Layers }

    /// α·g.
    let scale (alpha: 'T) (g: Gradients<'T>) : Gradients<'T> = mapLayers (Matrix.scale alpha) g

    /// ⟨g, h⟩ = Σ of products of matching entries.
    let dot (g: Gradients<'T>) (h: Gradients<'T>) : 'T =
        checkCompatible g h
        List.fold2 (fun (acc: 'T) (a: LayerGradient<'T>) (b: LayerGradient<'T>) -> acc + Matrix.dot a.dW b.dW + Matrix.dot a.db b.db) 'T.Zero g.Layers h.Layers

    /// Each layer's ∂C/∂w array then its ∂C/∂b array, in the order of indices.
    let internal arrays (g: Gradients<'T>) : 'T[] list = g.Layers |> List.collect (fun l -> [ l.dW.values; l.db.values ])

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
    /// for any finite entries.
    let internal normOf<'T when 'T :> IFloatingPointIeee754<'T>> (arrays: 'T[] list) : 'T =
        let largest = arrays |> List.fold largestOf 'T.Zero
        if 'T.IsZero(largest) || not ('T.IsFinite(largest)) then largest
        else largest * 'T.Sqrt(arrays |> List.fold (fun total a -> total + scaledSquares largest a) 'T.Zero)

    /// The Euclidean norm ‖g‖ = √⟨g, g⟩, computed with scaling so that it neither overflows nor
    /// underflows for any finite g (as normOf, walking the layers: no allocation).
    [<HotPath>]
    let norm (g: Gradients<'T>) : 'T =
        let mutable largest = 'T.Zero
        for l in g.Layers do
            largest <- largestOf (largestOf largest l.dW.values) l.db.values
        if 'T.IsZero(largest) || not ('T.IsFinite(largest)) then largest
        else
            let mutable total = 'T.Zero
            for l in g.Layers do
                total <- total + scaledSquares largest l.dW.values + scaledSquares largest l.db.values
            largest * 'T.Sqrt(total)

    /// True when every entry is finite.
    let internal isFinite (g: Gradients<'T>) : bool =
        g.Layers |> List.forall (fun l -> (Matrix.tryFindNonFinite l.dW).IsNone && (Matrix.tryFindNonFinite l.db).IsNone)

    /// Every entry in the order of indices, in one new array.
    let internal toArray (g: Gradients<'T>) : 'T[] = Array.concat (arrays g)

    /// The gradient shaped like the network's parameters whose entries, in the order of indices,
    /// are the given array's (which the result takes over).
    let internal ofArray (network: Network<'T>) (values: 'T[]) : Gradients<'T> =
        let layers, _ =
            network.Layers
            |> List.mapFold
                (fun offset l ->
                    let weights = l.OutputWidth * l.InputWidth
                    { dW = Matrix.wrap l.OutputWidth l.InputWidth (Array.sub values offset weights)
                      db = Matrix.wrap l.OutputWidth 1 (Array.sub values (offset + weights) l.OutputWidth) },
                    offset + weights + l.OutputWidth)
                0
        { Layers = layers }

    /// The number of entries (the network's parameter count).
    let count (g: Gradients<'T>) : int = g.Layers |> List.sumBy (fun l -> l.dW.values.Length + l.db.values.Length)

    /// The entry at a parameter's position.
    let item (index: ParameterIndex) (g: Gradients<'T>) : 'T =
        let layerOf l =
            if l < 1 || l > g.Layers.Length then
                raise (ArgumentOutOfRangeException("index", $"Layer {l} does not exist; the layers are 1…{g.Layers.Length}."))
            g.Layers.[l - 1]
        match index with
        | Weight(l, j, k) -> (layerOf l).dW.[j, k]
        | Bias(l, j) -> (layerOf l).db.[j, 0]

    /// Every parameter position, layer by layer, weights (column-major) before biases.
    let indices (g: Gradients<'T>) : ParameterIndex list =
        g.Layers
        |> List.indexed
        |> List.collect (fun (i, l) ->
            [ for k in 0 .. l.dW.cols - 1 do
                  for j in 0 .. l.dW.rows - 1 -> Weight(i + 1, j, k)
              for j in 0 .. l.db.rows - 1 -> Bias(i + 1, j) ])
