namespace FunctionalBackprop.Experiments

open System

/// Plain-text tables for the scripts to print: a header line, a rule, and the rows, the first
/// column aligned left and the others (numbers) right.
module TextTable =

    /// A number in a table: three significant digits, in scientific notation when small or large.
    let number (x: float) : string =
        if Double.IsNaN x then "–"
        elif Double.IsInfinity x then (if x > 0.0 then "∞" else "−∞")
        else sprintf "%.3g" x

    /// The table with the given header and rows (each row as long as the header).
    let render (header: string list) (rows: string list list) : string =
        let all = header :: rows
        let widths = header |> List.mapi (fun i _ -> all |> List.map (fun row -> (List.item i row).Length) |> List.max)
        let line (row: string list) =
            row
            |> List.mapi (fun i cell -> if i = 0 then cell.PadRight widths.[i] else cell.PadLeft widths.[i])
            |> String.concat "  "
        let rule = String('─', List.sum widths + 2 * (widths.Length - 1))
        String.concat "\n" (line header :: rule :: List.map line rows)
