namespace FunctionalBackprop.Experiments

open System
open System.IO

/// What a script was asked for on its command line.
type ScriptArguments =
    { /// --quick: a smaller run that takes seconds, for trying things out and for the tests.
      Quick: bool
      /// --out DIR: where the plots and tables go (default "out", below the current folder).
      OutputFolder: string }

/// Reading a script's command line (fsi.CommandLineArgs) and preparing its output folder.
module ScriptArguments =

    /// The options every script understands, for its error message.
    let usage (script: string) =
        $"usage: dotnet fsi {script} [--quick] [--out DIR]\n  --quick    a smaller run (seconds instead of up to a minute)\n  --out DIR  where to write the plots (default: out)"

    /// The arguments after the script's own name (fsi.CommandLineArgs starts with the script), or
    /// a message naming the argument that is not understood.
    let parse (commandLine: string[]) : Result<ScriptArguments, string> =
        let rec read (parsed: ScriptArguments) (rest: string list) =
            match rest with
            | [] -> Ok parsed
            | "--quick" :: rest -> read { parsed with Quick = true } rest
            | "--out" :: folder :: rest when not (folder.StartsWith "--") -> read { parsed with OutputFolder = folder } rest
            | [ "--out" ] | "--out" :: _ -> Error "--out needs a folder"
            | other :: _ -> Error $"unknown argument {other}"
        read { Quick = false; OutputFolder = "out" } (commandLine |> Array.skip (min 1 commandLine.Length) |> List.ofArray)

    /// The parsed arguments with the output folder created, or, when they cannot be parsed, the
    /// message and the usage on standard error and exit code 2.
    let start (commandLine: string[]) : ScriptArguments =
        let script = if commandLine.Length > 0 then Path.GetFileName commandLine.[0] else "script.fsx"
        match parse commandLine with
        | Ok arguments ->
            Directory.CreateDirectory arguments.OutputFolder |> ignore
            arguments
        | Error message ->
            eprintfn $"{script}: {message}\n{usage script}"
            exit 2

    /// The path of a file in the output folder.
    let output (arguments: ScriptArguments) (fileName: string) : string = Path.Combine(arguments.OutputFolder, fileName)
