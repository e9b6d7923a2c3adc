namespace FunctionalBackprop.Core

open System
open System.Globalization
open System.IO
open System.Text

/// Which column of a CSV file holds the label.
[<RequireQualifiedAccess>]
type LabelColumn =
    /// The last column.
    | Last
    /// The column at this index, from 0.
    | Index of int
    /// The column with this name in the header row.
    | Name of string

/// How a CSV file is laid out.
type CsvOptions =
    { /// The field separator (',' by default).
      Separator: char
      /// Whether the first row names the columns.
      HasHeader: bool
      /// Which column is the label; every other column is a numeric feature.
      Label: LabelColumn }

/// A table read from CSV: numeric features and a label per row.
type CsvTable =
    { /// The names of the feature columns (from the header, or "column k").
      FeatureNames: string[]
      /// The name of the label column.
      LabelName: string
      /// One array of features per row.
      Features: float[][]
      /// One label per row, as written.
      Labels: string[] }

/// Reading tabular data for users' own experiments. Fields follow RFC 4180: a field may be
/// quoted with ", inside which the separator and line breaks are literal and "" is a quote.
/// Numbers use the invariant culture (a point for decimals). Malformed text raises
/// FormatException naming the line, and the column where there is one.
module Csv =

    /// Comma-separated, with a header row, the label in the last column.
    let defaults: CsvOptions = { Separator = ','; HasHeader = true; Label = LabelColumn.Last }

    /// Splits the text into records of fields, each with the line it starts on.
    let private records (separator: char) (reader: TextReader) : (int * string list) list =
        let result = Collections.Generic.List<int * string list>()
        let field = StringBuilder()
        let mutable fields = []
        let mutable line = 1
        let mutable recordLine = 1
        let mutable inQuotes = false
        let mutable quotedField = false
        let mutable afterQuote = false
        let endField () =
            fields <- field.ToString() :: fields
            field.Clear() |> ignore
            quotedField <- false
            afterQuote <- false
        let endRecord () =
            endField ()
            let record = List.rev fields
            // A blank line (one empty, unquoted field) is not a record.
            if not (record = [ "" ]) then result.Add((recordLine, record))
            fields <- []
        let mutable c = reader.Read()
        while c >= 0 do
            let ch = char c
            if inQuotes then
                if ch = '"' then
                    if reader.Peek() = int '"' then
                        reader.Read() |> ignore
                        field.Append '"' |> ignore
                    else
                        inQuotes <- false
                        afterQuote <- true
                else
                    if ch = '\n' then line <- line + 1
                    field.Append ch |> ignore
            elif ch = separator then endField ()
            elif ch = '\r' then
                if reader.Peek() = int '\n' then reader.Read() |> ignore
                endRecord ()
                line <- line + 1
                recordLine <- line
            elif ch = '\n' then
                endRecord ()
                line <- line + 1
                recordLine <- line
            elif ch = '"' && field.Length = 0 && not quotedField then
                inQuotes <- true
                quotedField <- true
            elif afterQuote then
                raise (FormatException($"Line {line}: text after a closing quote ('{ch}'); a quoted field must end at a separator or the end of the line."))
            else field.Append ch |> ignore
            c <- reader.Read()
        if inQuotes then raise (FormatException($"Line {recordLine}: a quoted field is not closed before the end of the file."))
        if field.Length > 0 || not fields.IsEmpty || quotedField then endRecord ()
        List.ofSeq result

    /// Reads a table from text.
    let parse (options: CsvOptions) (reader: TextReader) : CsvTable =
        if isNull reader then nullArg "reader"
        let rows = records options.Separator reader
        let header, data =
            match options.HasHeader, rows with
            | true, (_, names) :: rest -> Some(Array.ofList names), rest
            | true, [] -> raise (FormatException("The file is empty: it has no header row."))
            | false, _ -> None, rows
        if data.IsEmpty then raise (FormatException("The file has no data rows."))
        let width = match header with Some h -> h.Length | None -> (snd data.Head).Length
        if width < 2 then raise (FormatException($"Each row needs a label and at least one feature, but rows have {width} field."))
        let names = header |> Option.defaultWith (fun () -> Array.init width (fun k -> $"column {k}"))
        let labelIndex =
            match options.Label with
            | LabelColumn.Last -> width - 1
            | LabelColumn.Index k when k >= 0 && k < width -> k
            | LabelColumn.Index k -> raise (ArgumentOutOfRangeException("Label", k, $"The label column {k} is outside the {width} columns (0 … {width - 1})."))
            | LabelColumn.Name n ->
                match Array.tryFindIndex ((=) n) names with
                | Some k -> k
                | None -> raise (ArgumentException($"""No column is named "{n}"; the columns are {String.Join(", ", names)}.""", "Label"))
        let features = Collections.Generic.List<float[]>()
        let labels = Collections.Generic.List<string>()
        for line, fields in data do
            let fields = Array.ofList fields
            if fields.Length <> width then
                raise (FormatException($"Line {line}: expected {width} fields, got {fields.Length}."))
            labels.Add(fields.[labelIndex].Trim())
            features.Add(
                [| for k in 0 .. width - 1 do
                       if k <> labelIndex then
                           let text = fields.[k].Trim()
                           match Double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture) with
                           | true, v when Double.IsFinite v -> yield v
                           | true, v -> raise (FormatException($"Line {line}, column {k} ({names.[k]}): {v} is not a finite number."))
                           | false, _ -> raise (FormatException($"Line {line}, column {k} ({names.[k]}): '{text}' is not a number.")) |])
        { FeatureNames = names |> Array.indexed |> Array.filter (fun (k, _) -> k <> labelIndex) |> Array.map snd
          LabelName = names.[labelIndex]
          Features = features.ToArray()
          Labels = labels.ToArray() }

    /// Reads a table from a file (UTF-8).
    let read (options: CsvOptions) (path: string) : CsvTable =
        if isNull path then nullArg "path"
        use reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks = true)
        parse options reader

    /// The classes of the labels (their distinct values in ordinal order) and each label's index.
    let classes (table: CsvTable) : string[] * int[] =
        let names = table.Labels |> Array.distinct |> Array.sortWith (fun a b -> String.CompareOrdinal(a, b))
        names, table.Labels |> Array.map (fun l -> Array.BinarySearch(names, l, StringComparer.Ordinal))

    /// The labels as numbers (for regression); FormatException for one that is not a finite number.
    let numericLabels (table: CsvTable) : float[] =
        table.Labels
        |> Array.mapi (fun row text ->
            match Double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture) with
            | true, v when Double.IsFinite v -> v
            | _ -> raise (FormatException($"Data row {row + 1}: the label '{text}' is not a finite number.")))
