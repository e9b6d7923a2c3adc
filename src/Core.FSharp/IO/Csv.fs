namespace FunctionalBackprop.Core

open System
open System.Globalization
open System.IO
open System.Numerics
open System.Text

/// Which columns of a CSV file hold targets (a class label, or the values a regression
/// predicts); every other column is a numeric feature.
[<RequireQualifiedAccess>]
type TargetColumns =
    /// The last `count` columns.
    | Last of count: int
    /// The columns at these positions, from 0 (messages count columns from 1, as a spreadsheet does).
    | Indices of int list
    /// The columns with these names in the header row.
    | Names of string list

/// How a CSV file is laid out.
type CsvOptions =
    { /// The field separator (',' by default).
      Separator: char
      /// Whether the first row names the columns.
      HasHeader: bool
      /// Which columns are targets; every other column is a numeric feature.
      Targets: TargetColumns }

/// The classes a label column may hold. Labels that are numbers are compared as numbers
/// everywhere: "2", "2.0" and "2e0" are one class.
[<RequireQualifiedAccess>]
type ClassSet =
    /// The distinct labels in the file: when most labels are integers, every label must be one
    /// (a stray "2.5" or "B" is an error naming its line), in numeric order (2 before 10); else
    /// numbers in numeric order when every label is a number, texts in ordinal order otherwise.
    | Inferred
    /// These labels, in this order (class k is the k-th); any other label is an error. A label
    /// and a name that are both numbers match when they are equal as numbers.
    | Names of string list
    /// The integers 0 … count − 1: class k is the label k.
    | Count of int

/// A table read from CSV: numeric features and the target fields of each row, as written.
type CsvTable =
    { /// The names of the feature columns (from the header, or "column k" counting from 1).
      FeatureNames: string[]
      /// The names of the target columns.
      TargetNames: string[]
      /// The position of each target column, from 0.
      TargetIndices: int[]
      /// The position of each feature column, from 0.
      FeatureIndices: int[]
      /// One array of features per row.
      Features: float[][]
      /// One array of target fields per row, trimmed.
      Targets: string[][]
      /// The line of the file on which each row starts, from 1.
      Lines: int[] }

/// Reading tabular data for users' own experiments. Fields follow RFC 4180: a field may be
/// quoted with ", inside which the separator and line breaks are literal and "" is a quote.
/// Numbers use the invariant culture (a point for decimals). Malformed text raises
/// FormatException naming the line and the column, both counted from 1.
module Csv =

    /// Comma-separated, with a header row, the target (label) in the last column.
    let defaults: CsvOptions = { Separator = ','; HasHeader = true; Targets = TargetColumns.Last 1 }

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
                raise (FormatException($"Line {line}, column {List.length fields + 1}: text after a closing quote ('{ch}'); a quoted field must end at a separator or the end of the line."))
            else field.Append ch |> ignore
            c <- reader.Read()
        if inQuotes then raise (FormatException($"Line {recordLine}, column {List.length fields + 1}: a quoted field is not closed before the end of the file."))
        if field.Length > 0 || not fields.IsEmpty || quotedField then endRecord ()
        List.ofSeq result

    /// The header's names, or "column 1" … "column w" without a header.
    let private columnNames (header: string[] option) (width: int) =
        header |> Option.defaultWith (fun () -> Array.init width (fun k -> $"column {k + 1}"))

    /// "column 3 (petal length)", for messages.
    let private describe (names: string[]) (k: int) = $"column {k + 1} ({names.[k]})"

    /// The positions of the target columns, from 0, in the order given.
    let private targetIndices (targets: TargetColumns) (names: string[]) : int[] =
        let width = names.Length
        let indices =
            match targets with
            | TargetColumns.Last count when count >= 1 && count < width -> [| width - count .. width - 1 |]
            | TargetColumns.Last count ->
                raise (ArgumentOutOfRangeException("Targets", count, $"The rows have {width} columns, so between 1 and {width - 1} of them can be targets (at least one must be a feature); {count} were asked for."))
            | TargetColumns.Indices list ->
                list |> Array.ofList |> Array.map (fun k ->
                    if k < 0 || k >= width then
                        raise (ArgumentOutOfRangeException("Targets", k, $"The target column index {k} is outside the {width} columns (indices 0 … {width - 1})."))
                    k)
            | TargetColumns.Names list ->
                list |> Array.ofList |> Array.map (fun n ->
                    match Array.tryFindIndex ((=) n) names with
                    | Some k -> k
                    | None -> raise (ArgumentException($"""No column is named "{n}"; the columns are {String.Join(", ", names)}.""", "Targets")))
        if indices.Length = 0 then invalidArg "Targets" "At least one column must be a target."
        if (Array.distinct indices).Length <> indices.Length then invalidArg "Targets" "A column is named twice among the targets."
        if indices.Length >= width then invalidArg "Targets" $"Every one of the {width} columns is a target; at least one must be a feature."
        indices

    /// The number in a feature field; FormatException naming its line and column otherwise.
    let private number (names: string[]) (line: int) (k: int) (field: string) : float =
        let text = field.Trim()
        match Double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture) with
        | true, v when Double.IsFinite v -> v
        | true, v -> raise (FormatException($"Line {line}, {describe names k}: {v} is not a finite number."))
        | false, _ when text.Length = 0 -> raise (FormatException($"Line {line}, {describe names k}: the field is empty; every feature must be a number."))
        | false, _ -> raise (FormatException($"Line {line}, {describe names k}: '{text}' is not a number."))

    /// Reads a table from text. Throws FormatException for malformed text or a feature that is not
    /// a number, ArgumentException when the target columns do not exist.
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
        if width < 2 then raise (FormatException($"""Each row needs a target and at least one feature, but rows have {Wording.count width "field"}."""))
        let names = columnNames header width
        let targets = targetIndices options.Targets names
        let features = [| 0 .. width - 1 |] |> Array.filter (fun k -> not (Array.contains k targets))
        let data = Array.ofList data
        data |> Array.iter (fun (line, fields) ->
            if fields.Length <> width then raise (FormatException($"Line {line}: expected {width} fields, got {fields.Length}.")))
        let rows = data |> Array.map (fun (line, fields) -> line, Array.ofList fields)
        { FeatureNames = features |> Array.map (fun k -> names.[k])
          TargetNames = targets |> Array.map (fun k -> names.[k])
          TargetIndices = targets
          FeatureIndices = features
          Features = rows |> Array.map (fun (line, fields) -> features |> Array.map (fun k -> number names line k fields.[k]))
          Targets = rows |> Array.map (fun (_, fields) -> targets |> Array.map (fun k -> fields.[k].Trim()))
          Lines = rows |> Array.map fst }

    /// Reads a table from a file (UTF-8).
    let read (options: CsvOptions) (path: string) : CsvTable =
        if isNull path then nullArg "path"
        use reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks = true)
        parse options reader

    /// "Line 7, column 65 (digit)" for row j's target t.
    let private where (table: CsvTable) (j: int) (t: int) =
        $"Line {table.Lines.[j]}, column {table.TargetIndices.[t] + 1} ({table.TargetNames.[t]})"

    let private tryNumber (text: string) =
        match Double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture) with
        | true, v when Double.IsFinite v -> Some v
        | _ -> None

    /// The single label column's texts; FormatException naming the line of an empty one.
    let private labelTexts (table: CsvTable) : string[] =
        if table.TargetNames.Length <> 1 then
            invalidArg "table" $"""Classification reads one label column, but the table has {table.TargetNames.Length} target columns ({String.Join(", ", table.TargetNames)})."""
        table.Targets |> Array.mapi (fun j row ->
            if row.[0].Length = 0 then raise (FormatException($"{where table j 0}: the label is empty; every row needs one."))
            row.[0])

    /// A number's class name: its shortest round-trip form, so "7", "7.0" and "7e0" are "7".
    let private numberName (v: float) = v.ToString("R", CultureInfo.InvariantCulture)

    /// The text's value when it is an integer as a number ("7", "7.0", "-3"), else None.
    let private integerValue (text: string) : float option = tryNumber text |> Option.filter (fun v -> v = Math.Round v)

    let private isInteger (text: string) = (integerValue text).IsSome

    /// "0 … 9", "0, 1": the first and last of sorted class names, for messages.
    let private span (names: string[]) =
        if names.Length <= 2 then String.Join(", ", names) else $"{names.[0]} … {names.[names.Length - 1]}"

    /// The classes found in the labels. When most labels are integers, every label must be one:
    /// the first that is not (a stray "2.5" or "B") is refused naming its line and column; the
    /// classes are the integers found, in numeric order. Otherwise numbers in numeric order when
    /// all are numbers, else texts in ordinal order. Numbers are named by their shortest
    /// round-trip form, so "7" and "7.0" are one class.
    let private inferred (table: CsvTable) (texts: string[]) : string[] * (string -> string) =
        let numbers = texts |> Array.map tryNumber
        let integers = texts |> Array.filter isInteger
        let byNumber () =
            let classes = numbers |> Array.choose id |> Array.distinct |> Array.sort |> Array.map numberName
            classes, (fun text -> numberName (tryNumber text).Value)
        if 2 * integers.Length > texts.Length then
            match Array.tryFindIndex (isInteger >> not) texts with
            | Some j ->
                let found = integers |> Array.choose integerValue |> Array.distinct |> Array.sort |> Array.map numberName
                raise (FormatException(
                    $"{where table j 0}: the label '{texts.[j]}' is not an integer, but {integers.Length} of the {texts.Length} labels are ({span found}). " +
                    "Correct the row, or give the classes by name (classes: …) if it is a class of its own."))
            | None -> byNumber ()
        elif Array.forall Option.isSome numbers then byNumber ()
        else texts |> Array.distinct |> Array.sortWith (fun a b -> String.CompareOrdinal(a, b)), id

    /// Given class names, and how a label names one: by its text, or by its number when both it
    /// and a name are numbers ("2.0" is the class "2").
    let private named (names: string[]) : string[] * (string -> string) =
        if names.Length < 2 then invalidArg "set" $"Classification needs at least 2 classes; {names.Length} were given."
        if names |> Array.exists String.IsNullOrWhiteSpace then invalidArg "set" "A class name is empty."
        if (Array.distinct names).Length <> names.Length then invalidArg "set" "A class is named twice."
        let numbered = names |> Array.choose (fun n -> tryNumber n |> Option.map (fun v -> v, n))
        match numbered |> Array.countBy fst |> Array.tryFind (fun (_, count) -> count > 1) with
        | Some(v, _) ->
            let twice = numbered |> Array.filter (fun (w, _) -> w = v) |> Array.map (fun (_, n) -> $"'{n}'")
            invalidArg "set" $"""The classes {String.Join(" and ", twice)} are one number; a class is named once."""
        | None -> ()
        let byNumber = dict numbered
        let className (text: string) =
            if Array.contains text names then text
            else
                match tryNumber text with
                | Some v when byNumber.ContainsKey v -> byNumber.[v]
                | _ -> text
        names, className

    /// The classes and how a label's text names its class, for a given set.
    let private classNames (set: ClassSet) (table: CsvTable) (texts: string[]) : string[] * (string -> string) =
        match set with
        | ClassSet.Inferred -> inferred table texts
        | ClassSet.Names names -> named (Array.ofList names)
        | ClassSet.Count count ->
            if count < 2 then raise (ArgumentOutOfRangeException("set", count, $"Classification needs at least 2 classes, got {count}."))
            let integer text =
                match integerValue text with
                | Some v when v >= 0.0 && v < float count -> string (int v)
                | _ -> text
            Array.init count string, integer

    /// The classes of the table's single label column and each row's class index (into them).
    /// Throws FormatException naming the line and column of an empty label, of one that is not
    /// among the classes given, or of one that is not an integer where most labels are (classes
    /// inferred), and when the labels found hold fewer than two classes.
    let classes (set: ClassSet) (table: CsvTable) : string[] * int[] =
        if isNull (box table) then nullArg "table"
        let texts = labelTexts table
        let names, className = classNames set table texts
        if names.Length < 2 then
            raise (FormatException($"Every row has the label \"{names.[0]}\": classification needs at least two classes."))
        let index = names |> Array.mapi (fun k n -> n, k) |> dict
        let expected = if names.Length <= 12 then String.Join(", ", names) else $"{names.[0]} … {names.[names.Length - 1]}, {names.Length} classes"
        names,
        texts |> Array.mapi (fun j text ->
            match index.TryGetValue(className text) with
            | true, k -> k
            | false, _ -> raise (FormatException($"{where table j 0}: the label '{text}' is not one of the classes ({expected}).")))

    /// Every target field as a number (for regression), one array per row; FormatException naming
    /// the line and column of one that is empty or not a finite number.
    let numericTargets (table: CsvTable) : float[][] =
        if isNull (box table) then nullArg "table"
        table.Targets |> Array.mapi (fun j row ->
            row |> Array.mapi (fun t text ->
                match tryNumber text with
                | Some v -> v
                | None when text.Length = 0 -> raise (FormatException($"{where table j t}: the target is empty; every row needs one."))
                | None -> raise (FormatException($"{where table j t}: the target '{text}' is not a finite number."))))

    /// Values of the file as 'T, one row per column of the result; FormatException naming the line
    /// and column of a number that 'T cannot hold (1e300 as float32).
    let private toMatrix<'T when 'T :> IFloatingPointIeee754<'T>> (table: CsvTable) (columns: int[]) (names: string[]) (rows: float[][]) : Matrix<'T> =
        let width = columns.Length
        let values: 'T[] = Array.zeroCreate (rows.Length * width)
        rows |> Array.iteri (fun j row ->
            row |> Array.iteri (fun i v ->
                let narrowed: 'T = Real.ofFloat v
                if not ('T.IsFinite narrowed) then
                    raise (FormatException($"Line {table.Lines.[j]}, column {columns.[i] + 1} ({names.[i]}): {v:R} is outside the range of {typeof<'T>.Name}."))
                values.[j * width + i] <- narrowed))
        Matrix.wrap width rows.Length values

    /// The features as 'T, one example per column.
    let features<'T when 'T :> IFloatingPointIeee754<'T>> (table: CsvTable) : Matrix<'T> =
        if isNull (box table) then nullArg "table"
        toMatrix table table.FeatureIndices table.FeatureNames table.Features

    /// The numeric targets as 'T, one example per column (see numericTargets).
    let targets<'T when 'T :> IFloatingPointIeee754<'T>> (table: CsvTable) : Matrix<'T> =
        toMatrix table table.TargetIndices table.TargetNames (numericTargets table)
