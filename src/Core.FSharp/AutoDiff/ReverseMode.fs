namespace FunctionalBackprop.Core

open System

/// Reverse-mode automatic differentiation with a tape: evaluate the function once on variables,
/// recording every elementary operation and its local partial derivatives in a Wengert list;
/// then sweep the list once backwards, from w̄ = 1 at the output, adding (∂wᵢ/∂wⱼ) w̄ᵢ into w̄ⱼ
/// for every use of wⱼ, so that each w̄ⱼ = ∂y/∂wⱼ is complete when the sweep reaches wⱼ. The
/// adjoints of the inputs are the gradient: all n partial derivatives of f: ℝⁿ → ℝ from one
/// evaluation and one sweep (the lecture: reverse mode suits f: ℝⁿ → ℝᵐ with m ≪ n; backprop is
/// this sweep applied to a network).
///
/// Pure: each call records into a tape of its own, made, swept and closed inside the call, so
/// nothing is kept between calls and calls on different threads cannot meet. The function to
/// differentiate takes variables (Var); write it once as an inline function with F#'s operators
/// and the Scalar module and it serves forward mode too.
module ReverseMode =

    /// Runs f on input variables recorded on a fresh tape, hands the tape, the inputs and f's
    /// result to read, and closes the tape whatever happens.
    let internal evaluate (f: Var[] -> 'R) (x: float[]) (read: Tape -> Var[] -> 'R -> 'S) : 'S =
        if isNull (box f) then nullArg "f"
        if isNull x then nullArg "x"
        let tape = Tape()
        try
            let inputs = x |> Array.map (fun xi -> Var.Input(tape, xi))
            read tape inputs (f inputs)
        finally
            tape.Finish()

    /// Throws ArgumentException unless y was recorded on this tape or is a constant.
    let internal checkOutput (tape: Tape) (y: Var) : unit =
        if not (isNull y.tape || Object.ReferenceEquals(y.tape, tape)) then
            invalidArg "f" "f returned a variable recorded on another tape (one kept from another differentiation); it must return what it computed from its own inputs."

    /// The backward sweep: the adjoints w̄ⱼ = ∂(Σ seeds)/∂wⱼ of lines 0 … last, given the seeds
    /// (line, w̄) of the outputs, in one pass over the tape from last down to 0.
    let internal adjoints (tape: Tape) (last: int) (seeds: (int * float) seq) : float[] =
        let adjoint = Array.zeroCreate (last + 1)
        for i, seed in seeds do
            adjoint.[i] <- adjoint.[i] + seed
        for i in last .. -1 .. 0 do
            let wBar = adjoint.[i]
            // A zero adjoint adds nothing (and skipping it keeps a 0·∞ partial from making NaN).
            if wBar <> 0.0 then
                let e = tape.[i]
                // w̄ⱼ += (∂wᵢ/∂wⱼ) w̄ᵢ for each argument wⱼ of wᵢ: every use of wⱼ adds its share
                if e.Left.Index >= 0 then adjoint.[e.Left.Index] <- adjoint.[e.Left.Index] + e.LeftPartial * wBar
                if e.Right.Index >= 0 then adjoint.[e.Right.Index] <- adjoint.[e.Right.Index] + e.RightPartial * wBar
        adjoint

    /// The value f(x) and the gradient ∇f(x) of f: ℝⁿ → ℝ, from one evaluation and one
    /// backward sweep.
    let valueAndGradient (f: Var[] -> Var) (x: float[]) : float * float[] =
        evaluate f x (fun tape inputs y ->
            checkOutput tape y
            if isNull y.tape then y.value, Array.zeroCreate x.Length
            else
                let adjoint = adjoints tape y.index [ y.index, 1.0 ]
                y.value, inputs |> Array.map (fun v -> if v.index < adjoint.Length then adjoint.[v.index] else 0.0))

    /// The gradient ∇f(x) of f: ℝⁿ → ℝ, from one evaluation and one backward sweep, whatever n.
    let gradient (f: Var[] -> Var) (x: float[]) : float[] = snd (valueAndGradient f x)

    /// The derivative f'(x) of f: ℝ → ℝ.
    let derivative (f: Var -> Var) (x: float) : float =
        if isNull (box f) then nullArg "f"
        (gradient (fun v -> f v.[0]) [| x |]).[0]

    /// The values y = f(x) and the vector–Jacobian product uᵀJ = Σᵢ uᵢ ∇yᵢ of f: ℝⁿ → ℝᵐ, from
    /// one evaluation and one backward sweep seeded with w̄ = uᵢ at each output yᵢ.
    let vectorJacobianProduct (f: Var[] -> Var[]) (x: float[]) (u: float[]) : float[] * float[] =
        if isNull u then nullArg "u"
        evaluate f x (fun tape inputs y ->
            if isNull y then invalidArg "f" "f returned null instead of its outputs."
            if y.Length <> u.Length then
                invalidArg "u" $"f has {y.Length} outputs but u has {u.Length} entries; they must match."
            Array.iter (checkOutput tape) y
            let seeds = Array.zip y u |> Array.filter (fun (yi, _) -> not yi.IsConstant) |> Array.map (fun (yi, ui) -> yi.index, ui)
            let last = if seeds.Length = 0 then -1 else seeds |> Array.map fst |> Array.max
            let adjoint = adjoints tape last seeds
            y |> Array.map (fun yi -> yi.value), inputs |> Array.map (fun v -> if v.index < adjoint.Length then adjoint.[v.index] else 0.0))
