namespace FunctionalBackprop.Core

open System
open System.Globalization
open System.Text

/// A line wᵢ = … of a Wengert list and its value at the point.
type PrimalLine =
    { /// i, counting from 1: the inputs are w₁ … wₙ, in order.
      Index: int
      /// How wᵢ was computed, in the lecture's notation: "w₃ = w₁w₂", "w₄ = sin w₁".
      Definition: string
      /// wᵢ at the point.
      Value: float }

/// A derivative line beside a PrimalLine, ẇᵢ = … in forward mode or w̄ᵢ = … in reverse mode, and
/// its value at the point.
type DerivativeLine =
    { /// i, the variable wᵢ whose derivative this is.
      Index: int
      /// The chain rule for this variable: "ẇ₃ = w₂·ẇ₁ + w₁·ẇ₂", "w̄₂ = w₁·w̄₃ + 3w₂²·w̄₄".
      Rule: string
      /// ẇᵢ or w̄ᵢ at the point.
      Derivative: float }

/// The lecture's forward-mode table for f: ℝⁿ → ℝ at a point along a direction: each line
/// wᵢ = … beside its tangent line ẇᵢ = … (ẇᵢ = ∂wᵢ/∂x along the direction).
type ForwardTable =
    { /// w₁ … wₘ in the order of evaluation, ending with the output's line.
      Primals: PrimalLine list
      /// ẇ₁ … ẇₘ, line by line beside Primals.
      Tangents: DerivativeLine list
      /// The seeds ẋ of the inputs (ẇ₁ = 1, ẇ₂ = 0 to differentiate by x₁).
      Direction: float[]
      /// The variable i with y = wᵢ (0 when f returned a constant).
      Output: int
      /// y = f(x).
      Value: float
      /// ẏ = ∇f(x)·ẋ, the derivative along the direction.
      Derivative: float }

/// The lecture's reverse-mode table for f: ℝⁿ → ℝ at a point: the lines wᵢ = … in the order of
/// evaluation, and the adjoints w̄ᵢ = ∂y/∂wᵢ in the reverse order the backward sweep completes
/// them, each gathered over the uses of wᵢ.
type BackwardTable =
    { /// w₁ … wₘ in the order of evaluation, ending with the output's line.
      Primals: PrimalLine list
      /// w̄ₘ … w̄₁: the output's adjoint w̄ₘ = 1 first, the inputs' last.
      Adjoints: DerivativeLine list
      /// The variable i with y = wᵢ (0 when f returned a constant).
      Output: int
      /// y = f(x).
      Value: float
      /// ∇f(x) = (w̄₁, …, w̄ₙ), the inputs' adjoints.
      Gradient: float[] }

/// The tables the lecture draws for both modes, for any function of variables at any point: to
/// learn from, and to debug a derivative by. A table is data (lines with their text and values)
/// and render turns it into text; nothing here prints.
///
/// Both tables come from one recording of f on a tape (as in ReverseMode), so the function is
/// written once, on variables. The forward table's tangents are computed by a forward sweep over
/// that tape, which performs the same operations as evaluating f on dual numbers. Constants are
/// shown by value inside the lines that use them and get no line of their own.
module Tables =

    let private subscriptDigits = "₀₁₂₃₄₅₆₇₈₉"
    let private superscriptDigits = "⁰¹²³⁴⁵⁶⁷⁸⁹"

    let private digits (table: string) (n: int) =
        let text = string (abs n) |> String.map (fun c -> table.[int c - int '0'])
        if n < 0 then "⁻" + text else text

    /// A number as the tables write it: six significant digits, with a true minus sign.
    let private number (x: float) = x.ToString("G6", CultureInfo.InvariantCulture).Replace("-", "−")

    /// wᵢ for line index i (0-based), as itself, its tangent or its adjoint: "w₃", "ẇ₃", "w̄₃"
    /// (in NFC: ẇ is one character, w̄ a w and a combining bar).
    let private name (letter: string) (i: int) = letter + digits subscriptDigits (i + 1)

    let private w = name "w"
    let private dot = "\u1E87"
    let private bar = "w\u0304"

    /// An operand as it appears inside a line: its variable's name, or a constant's value
    /// (in parentheses when negative).
    let private operand (o: Operand) =
        if o.Index >= 0 then w o.Index
        elif o.Value < 0.0 then $"({number o.Value})"
        else number o.Value

    /// The exponent of a power: superscript digits for small integers, else ^p.
    let private exponent (p: float) =
        if p = Math.Round p && abs p < 1e6 then (if p = 1.0 then "" else digits superscriptDigits (int p))
        else "^" + operand { Index = -1; Value = p }

    /// The right side of wᵢ = … for line i.
    let private definition (i: int) (e: Entry) =
        let a, b = operand e.Left, operand e.Right
        match e.Operation with
        | Operation.Input -> "x" + digits subscriptDigits (i + 1)
        | Operation.Add -> $"{a} + {b}"
        | Operation.Subtract -> $"{a} − {b}"
        | Operation.Negate -> $"−{a}"
        | Operation.Multiply -> if e.Left.Index >= 0 && e.Right.Index >= 0 then a + b else $"{a}·{b}"
        | Operation.Divide -> $"{a}/{b}"
        | Operation.Power -> if e.Right.Index < 0 then a + exponent e.Right.Value else $"{a}^{b}"
        | Operation.Exp -> $"e^{a}"
        | Operation.Log -> $"ln {a}"
        | Operation.Sin -> $"sin {a}"
        | Operation.Cos -> $"cos {a}"
        | Operation.Tanh -> $"tanh {a}"
        | Operation.Sqrt -> $"√{a}"
        | Operation.Abs -> $"|{a}|"
        | Operation.Sigmoid -> $"σ({a})"
        | Operation.ReLU -> $"ReLU({a})"
        | Operation.Max -> $"max({a}, {b})"

    /// The local partial derivative ∂wᵢ/∂(left operand) or ∂wᵢ/∂(right operand) as text: the
    /// rules of Var's operations, written in the operands' names.
    let private partial (e: Entry) (left: bool) =
        let a, b = operand e.Left, operand e.Right
        match e.Operation, left with
        | (Operation.Add | Operation.Subtract), true | Operation.Add, false -> "1"
        | (Operation.Subtract | Operation.Negate), _ -> "−1"
        | Operation.Multiply, _ -> if left then b else a
        | Operation.Divide, true -> $"1/{b}"
        | Operation.Divide, false -> $"−{a}/{b}²"
        | Operation.Power, true when e.Right.Index < 0 ->
            let n = e.Right.Value
            let coefficient = if n = 1.0 then "" elif n = -1.0 then "−" else operand e.Right
            if n = 1.0 || n = 0.0 then number n else coefficient + a + exponent (n - 1.0)
        | Operation.Power, true -> $"{b}·{a}^({b} − 1)"
        | Operation.Power, false -> $"{a}^{b}·ln {a}"
        | Operation.Exp, _ -> $"e^{a}"
        | Operation.Log, _ -> $"1/{a}"
        | Operation.Sin, _ -> $"cos {a}"
        | Operation.Cos, _ -> $"−sin {a}"
        | Operation.Tanh, _ -> $"(1 − tanh² {a})"
        | Operation.Sqrt, _ -> $"1/(2√{a})"
        | Operation.Abs, _ -> $"sign {a}"
        | Operation.Sigmoid, _ -> $"σ({a})(1 − σ({a}))"
        | Operation.ReLU, _ -> $"[{a} > 0]"
        | Operation.Max, true -> $"[{a} ≥ {b}]"
        | Operation.Max, false -> $"[{a} < {b}]"
        | Operation.Input, _ -> "0"

    /// Σ partial·derivative as text: "w₂·ẇ₁ + w₁·ẇ₂", "ẇ₃ + ẇ₄", "−ẇ₂"; "0" for no terms.
    let private sumOfTerms (terms: (string * string) list) =
        let term (p: string, d) =
            let sign, factor = if p.StartsWith "−" then "−", p.Substring 1 else "", p
            // A fraction is bracketed, so that 1/w₄·ẇ₃ cannot be read as 1/(w₄ẇ₃).
            if factor = "1" then sign + d elif factor.Contains "/" then $"{sign}({factor})·{d}" else $"{sign}{factor}·{d}"
        match terms |> List.map term with
        | [] -> "0"
        | first :: rest ->
            rest
            |> List.fold (fun (acc: string) t -> if t.StartsWith "−" then $"{acc} − {t.Substring 1}" else $"{acc} + {t}") first

    /// The variable operands of a line: (their line index, ∂wᵢ/∂operand, that partial as text).
    let private arguments (e: Entry) =
        [ if e.Left.Index >= 0 then yield e.Left.Index, e.LeftPartial, partial e true
          if e.Right.Index >= 0 then yield e.Right.Index, e.RightPartial, partial e false ]

    /// Records f at x and returns the closed tape, its lines up to the output (the lines after it
    /// cannot change y), and the output.
    let private record (f: Var[] -> Var) (x: float[]) : Tape * Entry[] * Var =
        ReverseMode.evaluate f x (fun tape _ y ->
            ReverseMode.checkOutput tape y
            let last = if y.IsConstant then x.Length - 1 else y.index
            tape, Array.init (last + 1) (fun i -> tape.[i]), y)

    let private primals (entries: Entry[]) =
        entries |> Array.mapi (fun i e -> { PrimalLine.Index = i + 1; Definition = $"{w i} = {definition i e}"; Value = e.Value }) |> List.ofArray

    /// The forward-mode table of f: ℝⁿ → ℝ at x along the direction ẋ (ẋ = eⱼ for ∂f/∂xⱼ).
    let forward (f: Var[] -> Var) (x: float[]) (direction: float[]) : ForwardTable =
        if isNull direction then nullArg "direction"
        if not (isNull x) && direction.Length <> x.Length then
            invalidArg "direction" $"The direction has {direction.Length} entries but the point x has {x.Length}; they must match."
        let _, entries, y = record f x
        // The tangent sweep in evaluation order: the inputs' ẇ are the seeds, and then
        // ẇᵢ = Σⱼ (∂wᵢ/∂wⱼ) ẇⱼ over the arguments wⱼ of wᵢ.
        let tangent = Array.zeroCreate entries.Length
        for i in 0 .. entries.Length - 1 do
            tangent.[i] <-
                if entries.[i].Operation = Operation.Input then direction.[i]
                else arguments entries.[i] |> List.sumBy (fun (j, d, _) -> d * tangent.[j])
        let rule i (e: Entry) =
            if e.Operation = Operation.Input then number direction.[i]
            else arguments e |> List.map (fun (j, _, p) -> p, name dot j) |> sumOfTerms
        { Primals = primals entries
          Tangents = entries |> Array.mapi (fun i e -> { DerivativeLine.Index = i + 1; Rule = $"{name dot i} = {rule i e}"; Derivative = tangent.[i] }) |> List.ofArray
          Direction = Array.copy direction
          Output = y.index + 1
          Value = y.value
          Derivative = if y.IsConstant then 0.0 else tangent.[y.index] }

    /// The reverse-mode table of f: ℝⁿ → ℝ at x, with the gradient.
    let backward (f: Var[] -> Var) (x: float[]) : BackwardTable =
        let tape, entries, y = record f x
        let adjoint = if y.IsConstant then Array.zeroCreate entries.Length else ReverseMode.adjoints tape y.index [ y.index, 1.0 ]
        // The sweep scatters each w̄ᵢ into its arguments; the table shows the same sums gathered
        // per variable, w̄ⱼ = Σ over the uses wᵢ of wⱼ of (∂wᵢ/∂wⱼ) w̄ᵢ, as the lecture writes them.
        let uses = Array.init entries.Length (fun _ -> ResizeArray<string * string>())
        entries |> Array.iteri (fun i e -> for j, _, p in arguments e do uses.[j].Add(p, name bar i))
        let rule j = if j = y.index then "1" else sumOfTerms (List.ofSeq uses.[j])
        { Primals = primals entries
          Adjoints = [ for j in entries.Length - 1 .. -1 .. 0 -> { DerivativeLine.Index = j + 1; Rule = $"{name bar j} = {rule j}"; Derivative = adjoint.[j] } ]
          Output = y.index + 1
          Value = y.value
          Gradient = Array.init x.Length (fun i -> if i < adjoint.Length then adjoint.[i] else 0.0) }

    /// The width of text on a terminal: combining marks (the dot of ẇ, the bar of w̄) take none.
    let private width (s: string) = StringInfo(s).LengthInTextElements

    let private pad (n: int) (s: string) = s + String(' ', max 0 (n - width s))

    /// Two columns of "text = value" lines side by side, under two headings.
    let private columns (left: string) (right: string) (rows: ((string * float) * (string * float)) list) =
        // "ẇ₁ = 1", not "ẇ₁ = 1 = 1": a line whose rule is its value shows it once.
        let cell (text: string, v) = if text.EndsWith($" = {number v}") then text else $"{text} = {number v}"
        let leftWidth = rows |> List.map (fst >> cell >> width) |> List.fold max (width left)
        let out = StringBuilder()
        out.AppendLine(pad leftWidth left + "   " + right) |> ignore
        for l, r in rows do
            out.AppendLine(pad leftWidth (cell l) + "   " + cell r) |> ignore
        out

    let private outputName (output: int) (value: float) = if output > 0 then $"y = {w (output - 1)} = {number value}" else $"y = {number value}"

    /// The forward table as text: each line wᵢ = … = value beside ẇᵢ = … = tangent, then y and ẏ.
    let renderForward (table: ForwardTable) : string =
        let rows = List.map2 (fun (p: PrimalLine) (t: DerivativeLine) -> (p.Definition, p.Value), (t.Rule, t.Derivative)) table.Primals table.Tangents
        let out = columns "values" "tangents ẇ = ∂w/∂x along ẋ" rows
        let tangentOf = if table.Output > 0 then $"ẏ = {name dot (table.Output - 1)}" else "ẏ"
        out.Append($"{outputName table.Output table.Value}, {tangentOf} = {number table.Derivative}").ToString()

    /// The backward table as text, laid out as the lecture's: the lines wᵢ = … = value in the
    /// order of evaluation beside the adjoints w̄ᵢ = … = adjoint in the order of the sweep (so the
    /// output's w̄ = 1 stands beside w₁), then y and the gradient.
    let renderBackward (table: BackwardTable) : string =
        let rows = List.map2 (fun (p: PrimalLine) (a: DerivativeLine) -> (p.Definition, p.Value), (a.Rule, a.Derivative)) table.Primals table.Adjoints
        let out = columns "values" "adjoints w̄ = ∂y/∂w, in reverse" rows
        let gradient = table.Gradient |> Array.mapi (fun i g -> $"∂y/∂x{digits subscriptDigits (i + 1)} = {number g}") |> String.concat ", "
        out.Append($"{outputName table.Output table.Value}; {gradient}").ToString()
