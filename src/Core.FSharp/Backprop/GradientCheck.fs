namespace FunctionalBackprop.Core

open System
open System.Numerics
open FunctionalBackprop.Core.GenericArithmetic

/// What a gradient check found.
type GradientCheckReport =
    { /// The largest relative disagreement between backprop's value g and the finite-difference
      /// estimate ĝ ± u, counting only what the estimate's uncertainty u (twice its error bound)
      /// cannot explain: max(0, |g − ĝ| − u) / max(|g|, |ĝ|, Floor).
      MaxRelativeError: float
      /// Where the largest disagreement is (None when no parameter could be checked).
      Worst: ParameterIndex option
      /// Backprop's value there.
      Analytic: float
      /// The finite-difference estimate there.
      Numeric: float
      /// The estimate's uncertainty there.
      NumericError: float
      /// The largest relative uncertainty u / max(|g|, |ĝ|, Floor) of any estimate: how fine a
      /// disagreement the check could see at all. Small (10⁻⁸ or less) for smooth costs; larger
      /// where kinks force small steps.
      MaxRelativeUncertainty: float
      /// Where that largest uncertainty is.
      LeastCertain: ParameterIndex option
      /// The cost C at the network's parameters.
      Cost: float
      /// ε^(1/4)·max(1, |C|) (1.2·10⁻⁴·max(1, |C|) in float64), the size below which a gradient
      /// entry counts as zero: a relative error of 10⁻⁶ against it is still an absolute error of
      /// about 10⁻¹⁰·max(1, |C|), yet it stays some thousand times above the estimates' rounding
      /// noise (a small multiple of ε·|C|/h with h near 10⁻³).
      Floor: float
      /// How many parameters were compared.
      Checked: int
      /// How many of them had an estimate fine enough to show a relative error of ε^(3/8):
      /// 1.4·10⁻⁶ in float64, 2.6·10⁻³ in float32.
      Resolved: int
      /// Parameters left out because every difference step, however small, moved some ReLU,
      /// leaky-ReLU or step unit across its kink (the cost is not differentiable there).
      AtKinks: int }

/// Compares backprop with finite differences over every parameter: public, because anyone
/// writing a new layer or loss wants it.
module GradientCheck =

    /// The largest first step, the ratio between steps, and the table size of the extrapolation.
    let private largestStep, shrink, tableSize = 0.01, 1.4, 10

    /// Ridders' extrapolation towards h = 0 of difference quotients D(h) whose error is a series
    /// in h^order (order 2 for central, 1 for one-sided differences), over h, h/1.4, h/1.4², …
    /// (Press et al., Numerical Recipes, §5.7). Keeps the estimate with the smallest error bound
    /// and stops once rounding starts to win, or at the first step whose quotient is unusable
    /// (None: it crossed a kink). Returns (estimate, error bound), the bound never below
    /// noise(h) for the smallest step h used; None when a kink leaves fewer than three steps.
    /// (Ridders' error bound is a heuristic: the caller tries several starting steps.)
    let private extrapolate (noise: float -> float) (difference: float -> float option) (h: float) (order: int) : (float * float) option =
        let table = Array2D.zeroCreate tableSize tableSize
        match difference h with
        | None -> None
        | Some d0 ->
            table.[0, 0] <- d0
            let ratio = Math.Pow(shrink, float order)
            let mutable best, error, step, i, stop, crossed = d0, Double.PositiveInfinity, h, 1, false, false
            while i < tableSize && not stop do
                step <- step / shrink
                match difference step with
                | None ->
                    crossed <- true
                    stop <- true
                | Some d ->
                    table.[0, i] <- d
                    let mutable factor = ratio
                    for j in 1 .. i do
                        table.[j, i] <- (table.[j - 1, i] * factor - table.[j - 1, i - 1]) / (factor - 1.0)
                        factor <- factor * ratio
                        let e = Math.Max(Math.Abs(table.[j, i] - table.[j - 1, i]), Math.Abs(table.[j, i] - table.[j - 1, i - 1]))
                        // No bound is finer than the rounding noise of the smallest step it used:
                        // tableau entries can agree by accident once differences are quantised.
                        let e = Math.Max(e, noise step)
                        // An extrapolation from only two differences can agree with them by
                        // coincidence, so estimates come from three differences or more.
                        if j >= 2 && e <= error then
                            error <- e
                            best <- table.[j, i]
                    if i >= 2 && Math.Abs(table.[i, i] - table.[i - 1, i - 1]) >= 2.0 * error then stop <- true
                    i <- i + 1
            // A kink met within the first steps leaves too short a table to trust.
            if Double.IsInfinity error then None else Some(best, error)

    /// ∂C/∂w with an uncertainty, from costAt s = (C(w + s), whether that step moved a kinked
    /// unit across its kink) and C(w). Central extrapolations are run from the starting steps
    /// 10⁻², 10⁻³, … 10⁻⁹ whose ±h cross no kink (only if none is free on both sides, one-sided
    /// ones on each free side instead), until two successive ones agree within four times their
    /// bounds, at most four. Ridders' bound is a heuristic that a coincidence can fool, or a step
    /// too large for the asymptotic regime of a strongly curved cost; so of the closest pair the
    /// estimate with the smaller bound is kept, with an uncertainty of at least their
    /// disagreement. None when every step crosses a kink on both sides.
    let internal ridders (epsilon: float) (piecewise: bool) (cost0: float) (costAt: float -> float * bool) : (float * float) option =
        // Each cost carries rounding error of a few ε·|C|; a quotient divides a difference of two
        // by the step, and extrapolation amplifies it a few times more.
        let noise (h: float) = 10.0 * epsilon * Math.Max(Math.Abs cost0, Double.Epsilon) / h
        let central h =
            let plus, crossedPlus = costAt h
            let minus, crossedMinus = costAt (-h)
            if crossedPlus || crossedMinus then None else Some((plus - minus) / (2.0 * h))
        let oneSided (side: float) h =
            let c, crossed = costAt (side * h)
            if crossed then None else Some((c - cost0) / (side * h))
        let free (side: float) h = not piecewise || not (snd (costAt (side * h)))
        let steps = Seq.init 8 (fun k -> largestStep / Math.Pow(10.0, float k))
        let combine (e1: float, b1: float) (e2: float, b2: float) =
            (if b1 <= b2 then e1 else e2), Math.Max(Math.Min(b1, b2), Math.Abs(e1 - e2))
        let agree (e1: float, b1: float) (e2: float, b2: float) = Math.Abs(e1 - e2) <= 4.0 * Math.Max(b1, b2)
        let crossChecked (attempt: float -> (float * float) option) =
            let estimates = steps |> Seq.choose attempt |> Seq.truncate 4 |> Seq.cache
            match Seq.pairwise estimates |> Seq.tryFind (fun (a, b) -> agree a b) with
            | Some(a, b) -> Some(combine a b)
            | None ->
                match List.ofSeq estimates with
                | [] -> None
                | [ single ] -> Some single
                | several -> several |> List.pairwise |> List.map (fun (a, b) -> combine a b) |> List.minBy snd |> Some
        match crossChecked (fun h -> if free 1.0 h && free -1.0 h then extrapolate noise central h 2 else None) with
        | Some estimate -> Some estimate
        | None ->
            [ 1.0; -1.0 ]
            |> List.choose (fun side -> crossChecked (fun h -> if free side h then extrapolate noise (oneSided side) h 1 else None))
            |> function
                | [] -> None
                | candidates -> Some(List.minBy snd candidates)

    /// The floor of the relative error's denominator (see GradientCheckReport.Floor).
    let private floorFor<'T when 'T :> IFloatingPointIeee754<'T>> (cost: float) =
        Math.Sqrt(Math.Sqrt(Real.epsilon<'T> ())) * Math.Max(1.0, Math.Abs cost)

    /// Whether the cost has kinks in the parameters: a ReLU, leaky-ReLU or step σ, or a max
    /// pooling (whose choice of maximum changes under a perturbation).
    let private isPiecewise (network: Network<'T>) : bool =
        network.Layers |> List.exists (fun l ->
            match l with
            | Layer.MaxPool2D _ -> true
            | _ -> Activation.isPiecewise (Layer.activation l))

    /// Layer i's side of every kink in its trace, if it has kinks: which side of 0 each z of a
    /// piecewise σ lies, and which input each output of a max pooling took.
    let private pattern (network: Network<'T>) (i: int) (t: LayerTrace<'T>) : int[] option =
        match network.Layers.[i] with
        | Layer.MaxPool2D p -> Some(MaxPool2D.choices p network.Shapes.[i] t.Input)
        | layer when Activation.isPiecewise (Layer.activation layer) -> Some(t.Z.values |> Array.map (fun z -> if 'T.op_GreaterThan (z, 'T.Zero) then 1 else 0))
        | _ -> None

    /// The finite-difference estimate ĝ and its uncertainty u (twice Ridders' error bound, and
    /// at least the disagreement of two starting steps) of ∂C/∂w for every parameter, in the
    /// order of Parameters.indices, with the cost evaluated in the given mode; None where every step crosses a ReLU, leaky-ReLU or step
    /// kink (the cost is not differentiable there). Evaluating a float32 network converted to
    /// float64 gives an oracle for float32 backprop far finer than float32 differences can be.
    let estimate (mode: Mode) (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : (ParameterIndex * (float * float) option) list =
        Network.checkInputs network x
        Network.checkTargets network loss x y
        let cost0 = Forward.cost mode loss network x y
        let piecewise = isPiecewise network
        let baseTrace = (Forward.trace mode network x).Layers |> Array.ofList
        let kinks (i: int) (t: LayerTrace<'T>) = pattern network i t
        let basePattern = List.ofArray baseTrace |> List.mapi kinks |> List.choose id
        // The cost and the on/off pattern of every kinked unit after perturbing a parameter of
        // layer `first` (0-based): the layers below it are unchanged, so their trace is reused.
        let evaluate (n: Network<'T>) (first: int) =
            let traces, _ = [ first .. n.Depth - 1 ] |> List.mapFold (fun a i -> let t = Forward.layer mode n i a in t, t.A) baseTrace.[first].Input
            let last = List.last traces
            let pattern =
                if not piecewise then []
                else
                    (List.take first (List.ofArray baseTrace) @ traces)
                    |> List.mapi kinks
                    |> List.choose id
            Real.toFloat (Loss.value loss n.OutputActivation last.Z last.A y), pattern
        let estimates =
            NumericalGradient.estimateEach network (fun copy layer values i ->
                let costAt (step: float) =
                    let saved = values.[i]
                    values.[i] <- saved + Real.ofFloat step
                    try
                        let c, pattern = evaluate copy layer
                        c, pattern <> basePattern
                    finally
                        values.[i] <- saved
                ridders (Real.epsilon<'T> ()) piecewise (Real.toFloat cost0) costAt
                |> Option.map (fun (n, bound) -> n, 2.0 * bound))
        List.zip (Parameters.indices network) estimates

    /// Backprop against Ridders-extrapolated central differences (see estimate) for every
    /// parameter, both in the given mode (in training mode dropout's masks are fixed by the mode's
    /// key, so the cost is a smooth function of the parameters); a parameter whose every step
    /// crosses a kink is counted in AtKinks instead of compared.
    let run (mode: Mode) (loss: Loss) (network: Network<'T>) (x: Matrix<'T>) (y: Matrix<'T>) : GradientCheckReport =
        let cost0, analytic = Backprop.lossAndGradient mode loss network x y
        let floor = floorFor<'T> (Real.toFloat cost0)
        let estimates = estimate mode loss network x y |> List.map snd
        let compared =
            List.zip (Parameters.indices network) estimates
            |> List.map (fun (p, estimate) -> p, Real.toFloat (Gradients.item p analytic), estimate)
        let valid = compared |> List.choose (fun (p, a, e) -> e |> Option.map (fun (n, u) -> p, a, n, u))
        let scale (_, a: float, n: float, _) = Math.Max(Math.Max(Math.Abs a, Math.Abs n), floor)
        let error ((_, a: float, n: float, u: float) as entry) = Math.Max(0.0, Math.Abs(a - n) - u) / scale entry
        let worst = if valid.IsEmpty then None else Some(List.maxBy error valid)
        let pick f fallback = worst |> Option.map f |> Option.defaultValue fallback
        { MaxRelativeError = pick error 0.0
          Worst = worst |> Option.map (fun (p, _, _, _) -> p)
          Analytic = pick (fun (_, a, _, _) -> a) 0.0
          Numeric = pick (fun (_, _, n, _) -> n) 0.0
          NumericError = pick (fun (_, _, _, u) -> u) 0.0
          MaxRelativeUncertainty = if valid.IsEmpty then 0.0 else valid |> List.map (fun ((_, _, _, u) as e) -> u / scale e) |> List.max
          LeastCertain = if valid.IsEmpty then None else valid |> List.maxBy (fun ((_, _, _, u) as e) -> u / scale e) |> (fun (p, _, _, _) -> Some p)
          Cost = Real.toFloat cost0
          Floor = floor
          Checked = valid.Length
          Resolved = valid |> List.filter (fun ((_, _, _, u) as e) -> u / scale e <= Math.Pow(Real.epsilon<'T> (), 0.375)) |> List.length
          AtKinks = compared.Length - valid.Length }
